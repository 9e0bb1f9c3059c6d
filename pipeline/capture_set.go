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
type captureSet struct {
	tables map[string]bool // nil: everything the publication sends is captured
	last   *event.Relation // one-entry cache: consecutive changes mostly share a relation
	keep   bool            // whether last is captured
	warned map[string]bool // tables whose dropped changes were logged
}

// newCaptureSet returns the capture set of postgres.tables; nil (capture
// all) without tables, and before PostgreSQL 13: without
// publish_via_partition_root a partitioned table's changes arrive under
// its partitions' names, which postgres.tables does not list.
func (s *session) newCaptureSet(ctx context.Context) (*captureSet, error) {
	if len(s.cfg.Postgres.Tables) == 0 {
		return nil, nil
	}
	version, err := replication.ServerVersion(ctx, s.db)
	if err != nil || version < replication.ViaRootVersion {
		return nil, err
	}
	c := &captureSet{tables: map[string]bool{}, warned: map[string]bool{}}
	for _, t := range s.cfg.Postgres.Tables {
		c.tables[t] = true
	}
	return c, nil
}

// captures reports whether ch is published: a snapshot row, a change
// without a relation (a logical message), or one of a listed table. The
// first dropped change of each other table is logged.
func (s *session) captures(ch *event.Change) bool {
	c := s.capture
	if c == nil || ch.Relation == nil || ch.Snapshot != "" {
		return true
	}
	if ch.Relation == c.last {
		return c.keep
	}
	name := ch.Relation.QualifiedName()
	c.last, c.keep = ch.Relation, c.tables[name]
	if !c.keep && !c.warned[name] {
		c.warned[name] = true
		s.log.Warn().Str("table", name).Str("publication", s.cfg.Postgres.Publication).
			Msg("the publication publishes a table outside postgres.tables: its changes are not captured " +
				"(add it to postgres.tables to capture it, or remove it from the publication)")
	}
	return c.keep
}
