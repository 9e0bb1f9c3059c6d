package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
)

// Without a rules file the publication holds postgres.tables, which
// EnsurePublication makes sure of when a session starts; with rules the
// publication poller (filter_poller.go) keeps it so while the session
// streams. A table someone removes from the publication by hand in between
// (ALTER PUBLICATION p DROP TABLE t) is no longer decoded, silently. So a
// session without rules watches the publication while it streams: every
// publication.poll_interval, on a connection of its own, it checks that each
// table of postgres.tables is still in it, and ends the session when one is
// not, after recording the table's catch-up through the committer (as the
// poller does for tables the rules gain): the next session adds it back
// (preparePublication) and snapshots its rows (runCatchup).

// publicationWatchTimeout bounds one check of the publication (connecting,
// reading the catalog, recording a catch-up).
const publicationWatchTimeout = 10 * time.Second

// Log messages of the publication watch (the e2e tests look for them).
const (
	msgRemovedRestart = "removed from the publication by hand: restarting the session to add it back and snapshot its rows; " +
		"changes made to it meanwhile, deletes included, were not decoded"
	msgRemovedReadded = "removed from the publication by hand: added it back; changes made to it meanwhile, deletes " +
		"included, were not decoded, and snapshot.mode never takes no catch-up snapshot (walrelay snapshot publishes its rows)"
	msgRecreatedRestart = "dropped and re-created (new OID): restarting the session to add the new table to the publication " +
		"and snapshot its rows; the dropped table's rows got no delete events, and changes made to the new table " +
		"before it is added were not decoded"
	msgRecreatedReadded = "dropped and re-created (new OID): added the new table to the publication; the dropped table's " +
		"rows got no delete events, changes made to the new table before it was added were not decoded, and " +
		"snapshot.mode never takes no catch-up snapshot (walrelay snapshot publishes its rows)"
	msgTableGone = "a table of postgres.tables no longer exists under that name: if it was renamed or moved, walrelay " +
		"captures it under its new name until it stops; the next start (if it was dropped, the next session " +
		"restart too) fails until postgres.tables names it as it is now, or no longer names it"
	msgWatchFailing = "publication not checked: a table removed from it by hand is not noticed until a check succeeds"
	msgWatchBack    = "publication checked again"
)

// pubNamespaceVersion is the first server_version_num with
// pg_publication_namespace (FOR TABLES IN SCHEMA, PostgreSQL 15).
const pubNamespaceVersion = 150000

// errPublicationGone is a check that found no publication: someone dropped
// it (the walsender fails at the next change it decodes).
var errPublicationGone = errors.New("the publication does not exist (dropped by hand?)")

// watchesPublication reports whether a session of cfg watches its
// publication while it streams: without a rules file, with postgres.tables
// (without them the publication is FOR ALL TABLES, or someone else's, and
// captured whole) and with publication.manage. A FOR ALL TABLES
// publication is seen at the first check, which ends the watch.
func watchesPublication(cfg *config.Config) bool {
	return cfg.Rules == "" && len(cfg.Postgres.Tables) > 0 && cfg.Publication.ManageEnabled()
}

// membership is one table of postgres.tables as the catalog shows it.
type membership struct {
	table  string // as in postgres.tables
	exists bool   // a table or partitioned table of that name exists
	member bool   // the publication holds it: listed, or in a listed schema
}

// pubState is what one check read: the publication is FOR ALL TABLES
// (tables then unread), or the membership of each table of postgres.tables.
type pubState struct {
	all    bool
	tables []membership
}

// judgeMembership sorts the tables of a check: removed are tables that
// exist but are not in the publication (removed by hand: the session must
// put them back), gone are tables that no longer exist (a drop takes a
// table out of its publications; nothing to put back).
func judgeMembership(ms []membership) (removed, gone []string) {
	for _, m := range ms {
		switch {
		case !m.exists:
			gone = append(gone, m.table)
		case !m.member:
			removed = append(removed, m.table)
		}
	}
	return removed, gone
}

// publicationWatch is the watch's state, owned by its goroutine.
type publicationWatch struct {
	pub   string
	every time.Duration
	log   zerolog.Logger
	// check reads the publication (watchConn.check in a session).
	check func(ctx context.Context) (pubState, error)
	// putBack handles tables removed by hand; restart reports that the
	// session ends, which ends the watch (session.putBack).
	putBack func(ctx context.Context, removed []string) (restart bool, err error)

	failing bool            // the last check failed (logged once per streak)
	gone    map[string]bool // tables whose absence was logged
}

// watchPublication starts the publication watch of a streaming session, if
// watchesPublication, and returns the function that stops it and waits for
// it. reader.loop calls it for the life of the stream, so the committer
// runs all the while. The watch never stops the pipeline by failing.
func (s *session) watchPublication(ctx context.Context) (stop func()) {
	if !watchesPublication(s.cfg) {
		return func() {}
	}
	c := &watchConn{dsn: s.cfg.Postgres.DSN, pub: s.cfg.Postgres.Publication, tables: s.listedTables()}
	w := &publicationWatch{
		pub: c.pub, every: s.cfg.Publication.PollInterval, log: s.log.With().Str("stage", "publication").Logger(),
		check:   c.check,
		putBack: func(ctx context.Context, removed []string) (bool, error) { return s.putBack(ctx, c.db, removed) },
		gone:    map[string]bool{},
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.close()
		w.run(wctx)
	}()
	return func() { cancel(); <-done }
}

// run checks the publication every w.every until ctx ends or a check ends
// the watch.
func (w *publicationWatch) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.tick(ctx) {
			return
		}
	}
}

// tick runs one check and acts on it; it reports whether the watch is over:
// the session restarts, or the publication is FOR ALL TABLES (it holds
// every table). A failed check, or a failure to put a table back, is
// logged once per failure streak and tried again at the next tick.
func (w *publicationWatch) tick(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, publicationWatchTimeout)
	defer cancel()
	st, err := w.check(cctx)
	if err == nil && st.all {
		w.log.Debug().Str("publication", w.pub).Msg("the publication is FOR ALL TABLES: not watched")
		return true
	}
	var restart bool
	if err == nil {
		removed, gone := judgeMembership(st.tables)
		w.logGone(gone)
		if len(removed) > 0 {
			restart, err = w.putBack(cctx, removed)
		}
	}
	w.failed(ctx, err)
	return restart
}

// logGone logs each table of gone once.
func (w *publicationWatch) logGone(gone []string) {
	for _, t := range gone {
		if !w.gone[t] {
			w.gone[t] = true
			w.log.Warn().Str("table", t).Str("publication", w.pub).Msg(msgTableGone)
		}
	}
}

// failed logs the first error of a streak, and the first success after one.
func (w *publicationWatch) failed(ctx context.Context, err error) {
	switch {
	case err == nil:
		if w.failing {
			w.log.Info().Str("publication", w.pub).Msg(msgWatchBack)
		}
		w.failing = false
	case ctx.Err() != nil: // stopping
	case !w.failing:
		w.failing = true
		w.log.Warn().Err(err).Str("publication", w.pub).Float64("retry_in_seconds", logfield.Seconds(w.every)).Msg(msgWatchFailing)
	}
}

// putBack handles tables of postgres.tables that were removed from the
// publication by hand while the session streams. With catch-up snapshots
// (snapshot.mode other than never), it records them as a catch-up through
// the committer, durably, and asks the session to restart (restart true):
// the next session adds them back and snapshots their rows. With
// snapshot.mode never it adds them back at once on db, the watch's
// connection, and the session streams on. One warning per table either way;
// a table dropped and created again under its name (another OID) leaves
// the publication too, and its warning says so (recreated).
// Called on the watch's goroutine while the committer runs.
func (s *session) putBack(ctx context.Context, db *pgx.Conn, removed []string) (restart bool, err error) {
	pub := s.cfg.Postgres.Publication
	recreated := s.recreated(ctx, db, removed)
	msg, msgNew := msgRemovedRestart, msgRecreatedRestart
	if m := s.cfg.Snapshot.Mode; m == config.SnapshotNever || m == config.SnapshotInitialOnly {
		if err := replication.EnsurePublication(ctx, db, pub, removed, s.log); err != nil {
			return false, fmt.Errorf("adding %s back to publication %q: %w", strings.Join(removed, ", "), pub, err)
		}
		msg, msgNew = msgRemovedReadded, msgRecreatedReadded
	} else {
		if _, err := s.catchupNextSession(ctx, removed, 0); err != nil {
			return false, fmt.Errorf("recording the catch-up of %s, removed from publication %q by hand: %w",
				strings.Join(removed, ", "), pub, err)
		}
		restart = true
	}
	for _, t := range removed {
		m := msg
		if recreated[t] {
			m = msgNew
		}
		s.log.Warn().Str("stage", "publication").Str("table", t).Str("publication", pub).Msg(m)
	}
	return restart, nil
}

// recreated returns the tables of removed whose OID is not the one they
// had at the session's start (captureSet.started): dropped and created
// again under the same name, not removed from the publication by hand.
// Without a capture set, or when the catalog cannot be read, it finds none
// (only the warning's wording depends on it).
func (s *session) recreated(ctx context.Context, db *pgx.Conn, removed []string) map[string]bool {
	if s.capture == nil || db == nil {
		return nil
	}
	now, err := tablesByName(ctx, db, removed)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for oid, name := range now {
		if was, ok := s.capture.started[name]; ok && was != oid {
			out[name] = true
		}
	}
	return out
}

// watchConn is the watch's connection to the database: opened at the first
// check, closed after a failed one (the next check opens a new one).
type watchConn struct {
	dsn, pub string
	tables   []string
	db       *pgx.Conn
	version  int // server_version_num, read when connecting
}

// check reads the publication and the membership of c.tables.
func (c *watchConn) check(ctx context.Context) (pubState, error) {
	if c.db == nil {
		db, err := replication.ConnectSQL(ctx, c.dsn)
		if err != nil {
			return pubState{}, err
		}
		if c.version, err = replication.ServerVersion(ctx, db); err != nil {
			_ = db.Close(context.Background())
			return pubState{}, err
		}
		c.db = db
	}
	st, err := readMembership(ctx, c.db, c.pub, c.tables, c.version)
	if err != nil && !errors.Is(err, errPublicationGone) {
		c.close()
	}
	return st, err
}

func (c *watchConn) close() {
	if c.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = c.db.Close(ctx)
		cancel()
		c.db = nil
	}
}

// readMembership reads publication pub and, unless it is FOR ALL TABLES,
// whether each of tables (schema.table) exists and is in it: listed
// (pg_publication_rel) or, from PostgreSQL 15 (version), in a listed schema
// (pg_publication_namespace) — what EnsurePublication counts as held, so a
// table found missing here is one the next session adds. A missing
// publication is errPublicationGone.
func readMembership(ctx context.Context, db *pgx.Conn, pub string, tables []string, version int) (pubState, error) {
	p, err := replication.ReadPublication(ctx, db, pub)
	switch {
	case err != nil:
		return pubState{}, err
	case !p.Exists:
		return pubState{}, fmt.Errorf("publication %q: %w", pub, errPublicationGone)
	case p.AllTables:
		return pubState{all: true}, nil
	}
	schemas, names := make([]string, len(tables)), make([]string, len(tables))
	for i, t := range tables {
		schemas[i], names[i], _ = pgident.Cut(t)
	}
	member := `EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prpubid = $3::oid AND pr.prrelid = c.oid)`
	if version >= pubNamespaceVersion {
		member += ` OR EXISTS (SELECT 1 FROM pg_publication_namespace pn WHERE pn.pnpubid = $3::oid AND pn.pnnspid = c.relnamespace)`
	}
	rows, err := db.Query(ctx, `SELECT x.i::int, c.oid IS NOT NULL, coalesce(`+member+`, false)
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(s, t, i)
		LEFT JOIN pg_namespace n ON n.nspname = x.s
		LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t AND c.relkind IN ('r', 'p')
		ORDER BY x.i`, schemas, names, p.OID)
	if err != nil {
		return pubState{}, fmt.Errorf("postgres: checking the tables of publication %q: %w", pub, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (membership, error) {
		var m membership
		var i int
		err := r.Scan(&i, &m.exists, &m.member)
		if err == nil && (i < 1 || i > len(tables)) {
			err = fmt.Errorf("row %d of %d", i, len(tables))
		}
		if err == nil {
			m.table = tables[i-1]
		}
		return m, err
	})
	if err != nil {
		return pubState{}, fmt.Errorf("postgres: checking the tables of publication %q: %w", pub, err)
	}
	return pubState{tables: ms}, nil
}
