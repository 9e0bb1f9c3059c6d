package pipeline

import (
	"context"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// captureSet drops the changes of tables outside postgres.tables when there
// is no rules file. The publication can publish more than the configured
// tables: one created FOR ALL TABLES or by someone else, or a table added to
// it by hand. Debezium's table.include.list filters on the client whatever
// the publication holds; so does this. Only streamed changes are checked,
// on the publisher goroutine: snapshot rows (read by several workers) come
// from the configured tables anyway.
//
// A table of postgres.tables is captured by OID, not only by name: one
// renamed or moved (ALTER TABLE ... RENAME TO / SET SCHEMA) while the
// session streams keeps its OID and its place in the publication, and its
// changes go on being published, under its new name and on its topic, with
// a warning (capture_follow.go).
type captureSet struct {
	tables map[string]bool           // nil: everything the publication sends is captured
	oids   map[uint32]*followedTable // the tables of postgres.tables, by OID
	last   *event.Relation           // one-entry cache: consecutive changes mostly share a relation
	keep   bool                      // whether last is captured
	warned map[string]bool           // tables whose dropped changes were logged
	// oldNames are the former names of tables of postgres.tables whose
	// replayed changes were noted (noteOldName).
	oldNames map[string]bool
	// started is the OID of each table of postgres.tables under its name
	// at the session's start; never changed after, so other goroutines
	// (the publication watch) may read it.
	started map[string]uint32
	// children are the inheritance children of the tables of
	// postgres.tables (child OID -> listed table), which a publication
	// listing their parent publishes too.
	children map[uint32]string
}

// newCaptureSet returns the capture set of postgres.tables, whose tables
// the session start found as follow; nil (capture all) without tables, and
// before PostgreSQL 13: without publish_via_partition_root a partitioned
// table's changes arrive under its partitions' names, which
// postgres.tables does not list.
func (s *session) newCaptureSet(ctx context.Context, follow []followedTable) (*captureSet, error) {
	if len(s.cfg.Postgres.Tables) == 0 {
		return nil, nil
	}
	version, err := replication.ServerVersion(ctx, s.db)
	if err != nil || version < replication.ViaRootVersion {
		return nil, err
	}
	c := &captureSet{tables: map[string]bool{}, oids: map[uint32]*followedTable{}, warned: map[string]bool{},
		oldNames: map[string]bool{}, started: map[string]uint32{}}
	for _, t := range s.cfg.Postgres.Tables {
		c.tables[t] = true
	}
	names := map[uint32]string{}
	for i := range follow {
		f := follow[i]
		c.oids[f.OID] = &f
		c.started[f.Name], names[f.OID] = f.OID, f.Name
	}
	if c.children, err = inheritChildren(ctx, s.db, mapKeys(names), names); err != nil {
		return nil, err
	}
	return c, nil
}

// captures reports whether ch is published: a snapshot row, a change
// without a relation (a logical message), or one of a listed table (by
// OID, whatever its name now, or by name). The first dropped change of
// each other table is logged, and so is the first change of a listed table
// under a new name: a warning when the listed name is no longer the
// table's (renamed or moved since the session's start), a note when the
// change was committed before the table got its listed name (a replay of
// WAL from before a rename made while walrelay was stopped).
func (s *session) captures(ch *event.Change) bool {
	c := s.capture
	if c == nil || ch.Relation == nil || ch.Snapshot != "" {
		return true
	}
	if ch.Relation == c.last {
		return c.keep
	}
	name := ch.Relation.QualifiedName()
	c.last = ch.Relation
	if f := c.oids[ch.Relation.OID]; f != nil {
		if f.Name != name {
			f.Name = name
			switch {
			case sameTable(f.Listed, name):
			case f.olderName(ch): // a replay of changes from before the rename
				s.noteOldName(c, f, name)
			default: // renamed or moved after the session's start
				s.warnFollowed(*f)
			}
		}
		c.keep = true
		return true
	}
	c.keep = c.tables[name]
	if !c.keep && !c.warned[name] {
		c.warned[name] = true
		s.warnDropped(c, ch.Relation.OID, name)
	}
	return c.keep
}
