package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/replication"
)

// filterState is a session's rules: the ones deciding now (reader goroutine
// only), the ones loaded by SIGHUP and waiting for the in-flight transaction
// to end, and the newest of the two (read by the publication poller).
type filterState struct {
	source string // ce_source of raw records; set once the system is identified

	current   *filter.Rules // reader goroutine only
	pending   *filter.Rules // reader goroutine only; replaces current, see apply
	pendingTx *event.Tx     // the transaction in flight when pending was loaded
	lastTx    *event.Tx     // the transaction of the last change routed

	latest       atomic.Pointer[filter.Rules] // pending if any, else current
	dataDir      string                       // where the column lineage is saved (lineage_file.go); "" = not saved
	lineageStore checkpoint.LineageStore      // and in the postgres checkpoint store (lineage_store.go); nil = not
	lineageAt    time.Time                    // when it was last saved
	lineageSaved []byte                       // what was last saved by this session (JSON)
	poller       *publicationPoller
	// exits reports whether an error now ends the process rather than
	// restarting the session: before any session of this Run streamed (Run
	// returns such errors). A session whose Run had one before (prev rules)
	// follows one that streamed, since Run returns the errors of earlier
	// ones; only a standby that waited for the slot is not, and is told
	// "restarts". Read on the goroutine that routes changes (after the
	// session's goroutine set streamed, before it started that one).
	exits func() bool
}

// filterState returns s's rules, or nil when no rules file is configured.
func (s *session) filterState() *filterState { return s.filter }

// openFilter loads the rules for a new session and checks their where
// expressions against the catalog's tables (filter.CheckWhere). The first
// session of a Run fails on a file that does not load or does not fit
// (walrelay exits with the file, line, rule and fix). A later one keeps
// the rules of the session before (a restart must not turn an unfinished
// edit into an outage), and logs why; if those do not fit the tables
// either (a table changed under them), the pipeline halts again at the
// first change they cannot decide (filter.RuleError), until the file is
// fixed. A catalog that cannot be read is logged; the rules are then
// checked as changes arrive. The rules start from the column lineage
// (startLineage) before they are checked, since the check accepts a masked
// column's former name that the lineage knows.
func (s *session) openFilter(ctx context.Context) (*filterState, error) {
	prev := s.rs.rules
	tables, terr := checkedTables(ctx, s.db, s.excludedTables())
	if terr != nil {
		s.log.Warn().Err(terr).Msg("rules not checked against the catalog")
	}
	rules, err := filter.Load(s.cfg.Rules, s.cfg.MaskSalt)
	msg := "rules file does not load; keeping the rules in force"
	if err == nil {
		// The lineage first: the check accepts a masked column's former name.
		if err := s.startLineage(ctx, rules, prev); err != nil {
			return nil, err
		}
	}
	if err == nil && terr == nil {
		if err = rules.CheckWhere(tables); err != nil {
			msg = "rules file does not fit the tables; keeping the rules in force"
		}
	}
	if err != nil {
		if prev == nil {
			return nil, fmt.Errorf("rules file: %w (fix the rules file, then start walrelay again)", err)
		}
		var perr error
		if terr == nil {
			perr = prev.CheckWhere(tables)
		}
		s.keepRules(err, perr, msg)
		rules = prev
	}
	st := &filterState{current: rules, dataDir: s.cfg.DataDir, lineageStore: s.lineageStore(),
		exits: func() bool { return prev == nil && !s.streamed }}
	st.latest.Store(rules)
	s.filter = st
	if err := s.trackLineage(ctx, st, rules.Captures); err != nil { // lineage_track.go
		return nil, err
	}
	s.log.Info().Str("rules", s.cfg.Rules).Int("rules_count", len(rules.Rules)).Int("message_routes", len(rules.Messages)).
		Stringer("default", rules.Default).Bool("manage_publication", s.cfg.Publication.ManageEnabled()).Msg("rules loaded")
	if terr == nil {
		s.logProblems(rules, tables)
	}
	return st, nil
}

// startLineage gives rules the column lineage: the first session's start
// from the one the previous process saved (seedLineage), later ones inherit
// it from the session before (prev), so a masked column renamed halts. A
// first session that resumes from a checkpoint also checks the tables the
// saved lineage lacks (filter.Rules.GuardResume): a column a rule names
// exactly for such a table that the table lacks may have been renamed while
// walrelay was stopped, and CheckWhere then refuses the file.
func (s *session) startLineage(ctx context.Context, rules, prev *filter.Rules) error {
	rules.Inherit(prev)
	if prev != nil {
		return nil
	}
	if err := s.seedLineage(ctx, rules); err != nil {
		return err
	}
	if !s.found {
		return nil
	}
	if err := rules.GuardResume(ctx, s.db); err != nil {
		return fmt.Errorf("column lineage: %w (check the role's privileges)", err)
	}
	return nil
}

// keepRules logs why a restarted session keeps the rules in force: err is
// why the file was not taken (msg says which kind), perr what is wrong with
// the rules in force (a table changed under them), nil if nothing. The same
// misfit in both (nobody edited the file yet) is one line.
func (s *session) keepRules(err, perr error, msg string) {
	const halts = "the pipeline halts at the first change they cannot decide, until the rules file is fixed"
	log := s.log.Error().Str("rules", s.cfg.Rules)
	switch {
	case perr != nil && perr.Error() == err.Error():
		log.Err(err).Msg("rules file and the rules in force do not fit the tables; keeping the rules in force: " + halts)
	case perr != nil:
		log.Err(err).Msg(msg)
		s.log.Error().Str("rules", s.cfg.Rules).Err(perr).Msg("the rules in force do not fit the tables either: " + halts)
	default:
		log.Err(err).Msg(msg)
	}
}

// closeFilter stops s's poller, saves the column lineage if it changed
// (lineage_file.go) and hands its newest rules to the next session of the
// Run; without a rules file, it saves the lineage kept without one
// (lineage_track.go). It is safe to call when s has no rules.
func (s *session) closeFilter() {
	s.closeCapturedLineage()
	if st := s.filter; st != nil {
		st.stopPoller()
		if err := st.saveLineage(true, s.log); err != nil {
			s.log.Error().Err(err).Msg("column lineage not saved")
		}
		s.rs.rules = st.latest.Load()
		s.filter = nil
	}
}

// vetReload checks rules that SIGHUP loaded against the catalog, on a
// connection of its own (the session's belongs to its goroutine): an error
// (filter.CheckWhere, with the column lineage of the rules in force, so a
// masked column's former name passes) refuses them, and reloadRules keeps
// the rules in force and logs it; the catalog's other problems are logged
// as warnings, as at start. A catalog it cannot read is logged and does not refuse the
// file: a change the rules cannot decide still halts the pipeline. Called
// on the publisher goroutine, which it holds for at most vetTimeout.
func (s *session) vetReload(ctx context.Context, next *filter.Rules) error {
	ctx, cancel := context.WithTimeout(ctx, vetTimeout)
	defer cancel()
	db, err := replication.ConnectSQL(ctx, s.cfg.Postgres.DSN)
	if err == nil {
		defer db.Close(context.Background())
		var tables []filter.Table
		if tables, err = checkedTables(ctx, db, s.excludedTables()); err == nil {
			if st := s.filterState(); st != nil {
				next.Inherit(st.latest.Load()) // the lineage: a masked column's former names pass
			}
			if err := next.CheckWhere(tables); err != nil {
				return err
			}
			s.logProblems(next, tables)
			return nil
		}
	}
	s.log.Warn().Err(err).Str("rules", s.cfg.Rules).Msg("SIGHUP: rules not checked against the catalog; a change they cannot decide halts the pipeline")
	return nil
}

// checkedTables lists the tables the rules are checked against
// (filter.TablesWithTypes): all but walrelay's own (excluded), which are
// never captured whatever a glob matches.
func checkedTables(ctx context.Context, q filter.Querier, excluded map[string]bool) ([]filter.Table, error) {
	tables, err := filter.TablesWithTypes(ctx, q)
	if err != nil {
		return nil, err
	}
	out := tables[:0]
	for _, t := range tables {
		if !excluded[t.QualifiedName()] {
			out = append(out, t)
		}
	}
	return out, nil
}

// vetTimeout bounds vetReload.
const vetTimeout = 15 * time.Second

// stage makes next the rules that decide from the next transaction on:
// inTx says a transaction is in flight (its remaining changes keep the old
// rules). Reader goroutine only.
func (st *filterState) stage(next *filter.Rules, inTx bool) {
	next.Succeed(st.current)
	st.pending, st.pendingTx = next, nil
	if inTx {
		st.pendingTx = st.lastTx
	}
	st.latest.Store(next)
}

// apply decides ch under the rules in force, switching to staged rules at
// the first change of a transaction that started after the reload. Reader
// goroutine only.
func (st *filterState) apply(ch *event.Change, log zerolog.Logger) (filter.Decision, error) {
	if st.pending != nil && (st.pendingTx == nil || ch.Tx != st.pendingTx) {
		st.current, st.pending, st.pendingTx = st.pending, nil, nil
		log.Info().Stringer("commit_lsn", ch.Tx.CommitLSN).Str("first_event", ch.ID()).Msg("rules reloaded")
	}
	st.lastTx = ch.Tx
	d, err := st.current.Apply(ch)
	if w := d.Renamed; w != nil { // once per table: see filter.RenamedTable
		log.Warn().Str("table", w.New).Str("former_name", w.Old).Uint32("oid", w.OID).Str("fix", w.Fix()).
			Msg(filter.MsgTableRenamedDropped)
	}
	if serr := st.saveLineage(false, log); serr != nil {
		if err == nil {
			return filter.Decision{}, serr
		}
		log.Error().Err(serr).Msg("column lineage not saved")
	}
	if err != nil {
		err = st.halt(err)
	}
	return d, err
}

// halt adds to a rule's error (filter.RuleError) what happens now and how
// the fixed file is taken: the process exits before it first streams, and
// restarts the session from the checkpoint afterwards, where SIGHUP (or the
// next restart) loads it.
func (st *filterState) halt(err error) error {
	var re *filter.RuleError
	switch {
	case !errors.As(err, &re):
		return err
	case st.exits != nil && st.exits():
		return fmt.Errorf("%w; walrelay stops: fix the rules file, then start walrelay again", err)
	}
	return fmt.Errorf("%w; the pipeline restarts from the checkpoint until the rules file is fixed: "+
		"fix it, then send SIGHUP (each restart also reads it)", err)
}
