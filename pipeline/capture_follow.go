package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
)

// Following the tables of postgres.tables (without a rules file) by OID.
// ALTER TABLE ... RENAME TO, or SET SCHEMA, keeps a table's OID, so it stays
// in the publication and PostgreSQL goes on sending its changes, under the
// new name. Within a process walrelay follows it: the capture set keeps its
// changes (on the new name's topic, as a glob rule would), and a session
// that starts again (a restart after a failure, a catch-up) finds it by the
// OID the first session found under the configured name (runState.followed)
// and captures it under its current name. Each session start, and the first
// change under a new name, logs a warning naming both names and the OID.
// The next process start fails until postgres.tables names the new name;
// its error names it, from the OIDs kept in data_dir (followFile). Nothing
// is dropped meanwhile, so updating postgres.tables takes no catch-up: the
// table is in the publication already.

// msgFollowed is the warning for a table of postgres.tables found under
// another name (the e2e tests look for it).
const msgFollowed = "a table of postgres.tables was renamed or moved: walrelay captures it under its new name " +
	"(same OID), on that name's topic, until it stops; set postgres.tables to the new name: walrelay's next " +
	"start fails until it does"

// msgOldName is the note for the changes of a table of postgres.tables
// committed before it got its listed name (a replay of WAL from before a
// rename made while walrelay was stopped): PostgreSQL sends them under the
// name the table had then. Nothing to fix.
const msgOldName = "changes of a table of postgres.tables committed before it was renamed or moved to its listed " +
	"name arrive under its former name: they are published on that name's topic; the later ones on the listed " +
	"name's (postgres.tables is right, nothing to change)"

// followedTable is one table of postgres.tables as a session start found it.
type followedTable struct {
	OID    uint32
	Listed string // its name in postgres.tables
	Name   string // its current schema.table (as the stream names it, once it does)
	// Since is the server's WAL position read just before the catalog
	// lookup that found the table as Name: a change committed before it
	// carries Name or a name the table had before. Current is whether
	// Listed was the table's name in that lookup.
	Since   event.LSN
	Current bool
}

// olderName reports whether ch, a change of f's table under a name other
// than Listed, was committed while the table had an older name: Listed was
// its name in the catalog at the session start, and ch was committed
// before. Such a name needs no warning: postgres.tables is right.
func (f *followedTable) olderName(ch *event.Change) bool {
	return f.Current && f.Since != 0 && ch.Tx != nil && ch.Tx.CommitLSN < f.Since
}

// prepareCaptured is preparePublication without a rules file, with
// postgres.tables: it finds the tables (followTables), carries a recorded
// catch-up over to their current names, records the catch-up of those the
// publication lacks, builds the capture set and makes sure of the
// publication, all under the tables' current names (s.tables).
func (s *session) prepareCaptured(ctx context.Context) error {
	if len(s.cfg.Postgres.Tables) == 0 {
		if err := s.recordCatchup(ctx, nil); err != nil {
			return err
		}
		return replication.EnsurePublication(ctx, s.db, s.cfg.Postgres.Publication, nil, s.log)
	}
	known := loadFollowFile(s.cfg.DataDir, s.log)
	follow, err := s.followTables(ctx, known)
	if err != nil {
		return err
	}
	s.tables = currentNames(follow)
	if err := s.renameCatchup(ctx, follow, known); err != nil {
		return err
	}
	if err := s.recordCatchup(ctx, s.tables); err != nil {
		return err
	}
	if s.capture, err = s.newCaptureSet(ctx, follow); err != nil {
		return err
	}
	if err := saveFollowFile(s.cfg.DataDir, follow); err != nil {
		s.log.Warn().Err(err).Msg("the OIDs of postgres.tables were not saved: if a table is renamed, the next " +
			"start's error cannot name its new name")
	}
	return replication.EnsurePublication(ctx, s.db, s.cfg.Postgres.Publication, s.tables, s.log)
}

// listedTables are the tables of postgres.tables under their current
// names, as the session start found them; postgres.tables before.
func (s *session) listedTables() []string {
	if s.tables != nil {
		return s.tables
	}
	return s.cfg.Postgres.Tables
}

// followTables finds the tables of postgres.tables: each by its name, and
// each table an earlier session of this process found under a listed name
// by its OID (renamed or moved since). It returns them in
// postgres.tables' order; a listed name that neither exists nor is
// followed is an error (dropped, or renamed while walrelay was stopped or
// before this process started), naming the new name when known (OID in
// known).
func (s *session) followTables(ctx context.Context, known map[string]uint32) ([]followedTable, error) {
	since, err := ServerWALPosition(ctx, s.db) // before the lookup: see followedTable.Since
	if err != nil {
		return nil, err
	}
	byName, err := tablesByName(ctx, s.db, s.cfg.Postgres.Tables)
	if err != nil {
		return nil, err
	}
	if s.rs.followed == nil {
		s.rs.followed = map[uint32]string{}
	}
	for oid, name := range byName {
		s.rs.followed[oid] = name
	}
	current, err := tablesByOID(ctx, s.db, mapKeys(s.rs.followed))
	if err != nil {
		return nil, err
	}
	var follow []followedTable
	for oid, listed := range s.rs.followed {
		name, ok := current[oid]
		if !ok { // dropped
			delete(s.rs.followed, oid)
			continue
		}
		follow = append(follow, followedTable{OID: oid, Listed: listed, Name: name, Since: since,
			Current: sameTable(listed, name)})
	}
	slices.SortFunc(follow, func(a, b followedTable) int { // postgres.tables' order
		if c := slices.Index(s.cfg.Postgres.Tables, a.Listed) - slices.Index(s.cfg.Postgres.Tables, b.Listed); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var missing []string
	for _, n := range s.cfg.Postgres.Tables {
		if !slices.ContainsFunc(follow, func(f followedTable) bool { return f.Listed == n }) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, missingTablesError(ctx, s.db, missing, known)
	}
	for _, f := range follow {
		if !sameTable(f.Listed, f.Name) {
			s.warnFollowed(f)
		}
	}
	return follow, nil
}

// sameTable reports whether listed, a name as postgres.tables writes it,
// is name, a current name (pgident.Format).
func sameTable(listed, name string) bool {
	n, err := pgident.Normalize(listed)
	return listed == name || err == nil && n == name
}

// noteOldName logs msgOldName once per table and former name: f's
// changes arrive under name, which the table had before its listed name.
func (s *session) noteOldName(c *captureSet, f *followedTable, name string) {
	if c.oldNames[name] {
		return
	}
	c.oldNames[name] = true
	s.log.Info().Str("table", f.Listed).Str("former_name", name).Uint32("oid", f.OID).Msg(msgOldName)
}

// warnFollowed logs msgFollowed for f.
func (s *session) warnFollowed(f followedTable) {
	s.log.Warn().Str("table", f.Name).Str("listed", f.Listed).Uint32("oid", f.OID).
		Str("publication", s.cfg.Postgres.Publication).
		Str("fix", fmt.Sprintf("in postgres.tables, replace %s with %s", f.Listed, f.Name)).Msg(msgFollowed)
}

// RenamedTableError lists tables of postgres.tables that no longer exist
// under their names but whose OIDs, saved by an earlier start, name other
// tables now: they were renamed or moved.
type RenamedTableError struct{ Tables []followedTable }

func (e *RenamedTableError) Error() string {
	var was, now []string
	for _, t := range e.Tables {
		was = append(was, fmt.Sprintf("%s, renamed or moved to %s (same table, OID %d)", t.Listed, t.Name, t.OID))
		now = append(now, t.Name)
	}
	return fmt.Sprintf("postgres.tables names %s: set postgres.tables to %s instead (nothing is lost meanwhile: "+
		"a renamed table stays in the publication, and its changes under the new name are published on that "+
		"name's topic, no catch-up needed)", strings.Join(was, "; "), strings.Join(now, ", "))
}

// missingTablesError is the error for tables of postgres.tables that do
// not exist as tables: a RenamedTableError for those whose OID in known is
// a table under another name now, else replication.RequireTables' error
// (a MissingTablesError, or an UncapturableTableError naming the kind of
// a view, materialized view, ...).
func missingTablesError(ctx context.Context, db *pgx.Conn, missing []string, known map[string]uint32) error {
	var oids []uint32
	for _, n := range missing {
		if oid, ok := known[n]; ok {
			oids = append(oids, oid)
		}
	}
	current, err := tablesByOID(ctx, db, oids)
	if err != nil {
		return err
	}
	renamed := &RenamedTableError{}
	for _, n := range missing {
		if oid, ok := known[n]; ok && current[oid] != "" {
			renamed.Tables = append(renamed.Tables, followedTable{OID: oid, Listed: n, Name: current[oid]})
		}
	}
	if len(renamed.Tables) > 0 {
		return renamed
	}
	if err := replication.RequireTables(ctx, db, missing); err != nil {
		return err // names a view's or other relation's kind, as walrelay check does
	}
	return &replication.MissingTablesError{Tables: missing}
}

// renameCatchup carries the recorded catch-up over to the tables' current
// names: a table renamed after its catch-up was recorded (by this process,
// followed by OID; or before this start, its OID in known) is snapshotted
// under its current name, not dropped as "not in the publication". A
// catch-up whose snapshot is taken (a boundary) keeps the old names too:
// the changes before the rename stream under them.
func (s *session) renameCatchup(ctx context.Context, follow []followedTable, known map[string]uint32) error {
	cu := s.stored.Catchup
	if cu == nil || cu.Boundary != 0 && s.stored.LSN >= cu.Boundary {
		return nil
	}
	renames := map[string]string{}
	for _, f := range follow {
		if !sameTable(f.Listed, f.Name) {
			renames[f.Listed] = f.Name
		}
	}
	oldByOID := map[uint32]string{}
	for name, oid := range known {
		if slices.Contains(cu.Tables, name) {
			oldByOID[oid] = name
		}
	}
	for _, f := range follow {
		if old, ok := oldByOID[f.OID]; ok && old != f.Name {
			renames[old] = f.Name
		}
	}
	next, changed := renameCatchupTables(cu, renames)
	if !changed {
		return nil
	}
	s.stored.Catchup, s.stored.UpdatedAt = next, time.Now().UTC()
	if err := s.store.Save(ctx, s.stored); err != nil {
		return fmt.Errorf("recording the catch-up of renamed tables under their new names: %w", err)
	}
	s.log.Warn().Strs("catchup_tables", next.Tables).
		Msg("catch-up: tables renamed or moved since it was recorded are snapshotted under their new names")
	return nil
}
