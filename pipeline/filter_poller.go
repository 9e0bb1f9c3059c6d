package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/replication"
)

// publicationPoller keeps a managed publication equal to the tables the
// rules capture while a session streams: every publication.poll_interval,
// and at once after a SIGHUP reload, it lists the catalog and adds new tables
// that match (drops vanished ones). It runs SQL only on its own connection,
// never on the session's, and only reads the rules (filterState.latest).
type publicationPoller struct {
	st       *filterState
	pub      string
	dsn      string
	every    time.Duration
	excluded map[string]bool
	onAdd    func(context.Context, []string) error // before the publication gains tables (catchup.go)
	log      zerolog.Logger

	// checked are the rules checkWhere last checked, reported the problems
	// it logged for them (poller goroutine only).
	checked  *filter.Rules
	reported map[string]bool

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// startPoller starts st's poller for session s. It ends with ctx (Run's);
// the next session or closeFilter stops it earlier.
func (st *filterState) startPoller(ctx context.Context, s *session) {
	ctx, cancel := context.WithCancel(ctx)
	p := &publicationPoller{
		st: st, pub: s.cfg.Postgres.Publication, dsn: s.cfg.Postgres.DSN, every: s.cfg.Publication.PollInterval,
		excluded: s.excludedTables(), onAdd: s.recordCatchupLive, log: s.log.With().Str("stage", "publication").Logger(),
		kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}),
	}
	st.poller = p
	go p.run(ctx)
}

// kickPoller asks for a sync now (after a reload); it never blocks.
func (st *filterState) kickPoller() {
	if st.poller == nil {
		return
	}
	select {
	case st.poller.kick <- struct{}{}:
	default:
	}
}

// stopPoller stops the poller and waits for it to exit.
func (st *filterState) stopPoller() {
	if p := st.poller; p != nil {
		p.once.Do(func() {
			p.cancel()
			<-p.done
		})
	}
}

func (p *publicationPoller) run(ctx context.Context) {
	defer close(p.done)
	var db *pgx.Conn
	defer func() {
		if db != nil {
			_ = db.Close(context.Background())
		}
	}()
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.kick:
		}
		var err error
		if db == nil {
			if db, err = replication.ConnectSQL(ctx, p.dsn); err != nil {
				p.warn(ctx, err)
				continue
			}
		}
		rules := p.st.latest.Load()
		changed, err := syncPublication(ctx, db, p.pub, rules, p.excluded, p.onAdd, p.log)
		if err != nil {
			p.warn(ctx, err)
		} else if changed || rules != p.checked {
			if err = p.checkWhere(ctx, db, rules); err != nil && ctx.Err() == nil {
				p.log.Warn().Err(err).Float64("retry_in_seconds", logfield.Seconds(p.every)).Msg("rules not checked against the catalog")
			}
		}
		if err != nil {
			_ = db.Close(context.Background())
			db = nil
		}
	}
}

// checkWhere checks the rules' where expressions against the catalog's
// tables when the rules or the publication changed: a table created since
// the rules were checked (a glob matched it) may lack a column a where
// reads, or have another type. It logs each such problem once per rules
// version, as an error: the pipeline halts at the first change of the table
// the rule must decide (filter.RuleError), until the rules file is fixed.
// Nothing is refused here: the rules are already in force.
func (p *publicationPoller) checkWhere(ctx context.Context, db *pgx.Conn, rules *filter.Rules) error {
	if rules != p.checked {
		p.checked, p.reported = rules, map[string]bool{}
	}
	if !hasWhere(rules) {
		return nil
	}
	tables, err := checkedTables(ctx, db, p.excluded)
	if err != nil {
		p.checked = nil // again next time
		return err
	}
	for _, e := range whereErrors(rules.CheckWhere(tables)) {
		if msg := e.Error(); !p.reported[msg] {
			p.reported[msg] = true
			p.log.Error().Str("rules", rules.File).Msg(msg + "; the pipeline halts at the first change of this table " +
				"that the rule must decide, until the rules file is fixed (then send SIGHUP)")
		}
	}
	return nil
}

// hasWhere reports whether any rule has a where expression.
func hasWhere(rules *filter.Rules) bool {
	for _, r := range rules.Rules {
		if r.Where != "" {
			return true
		}
	}
	return false
}

// whereErrors returns the single errors of a CheckWhere result.
func whereErrors(err error) []*filter.Error {
	var es filter.Errors
	if errors.As(err, &es) {
		return es
	}
	if e := filter.FirstError(err); e != nil {
		return []*filter.Error{e}
	}
	return nil
}

func (p *publicationPoller) warn(ctx context.Context, err error) {
	if errors.Is(err, errNotStreaming) {
		p.log.Debug().Err(err).Msg("publication not synced yet")
		return
	}
	if ctx.Err() == nil {
		p.log.Warn().Err(err).Str("publication", p.pub).Float64("retry_in_seconds", logfield.Seconds(p.every)).Msg("publication not synced with the rules")
	}
}
