package pipeline

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// msgInheritChild is the warning for the first change of an inheritance
// child (CREATE TABLE ... INHERITS) of a table of postgres.tables (the e2e
// tests look for it).
const msgInheritChild = "a table inheriting from a table of postgres.tables is not captured: PostgreSQL publishes " +
	"inheritance children with their parent (walrelay's publication lists the parent, which includes them), but " +
	"walrelay captures only the tables of postgres.tables (the parent's snapshot and topic hold the parent's own " +
	"rows), so this table's changes are dropped; to capture it on its own topic, add it to postgres.tables"

// inheritChildren returns the inheritance children (INHERITS, not
// partitions), at any depth, of the tables with oids, each with the name
// of the listed table it descends from.
func inheritChildren(ctx context.Context, db *pgx.Conn, oids []uint32, names map[uint32]string) (map[uint32]string, error) {
	out := map[uint32]string{}
	if len(oids) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `WITH RECURSIVE d(child, root) AS (
			SELECT i.inhrelid, i.inhparent FROM pg_inherits i WHERE i.inhparent = ANY($1::oid[])
			UNION SELECT i.inhrelid, d.root FROM pg_inherits i JOIN d ON i.inhparent = d.child)
		SELECT d.child, d.root FROM d JOIN pg_class c ON c.oid = d.child WHERE NOT c.relispartition`, oids)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the inheritance children of postgres.tables: %w", err)
	}
	var child, root uint32
	_, err = pgx.ForEachRow(rows, []any{&child, &root}, func() error {
		out[child] = names[root]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the inheritance children of postgres.tables: %w", err)
	}
	return out, nil
}

// warnDropped logs the first dropped change of a table outside
// postgres.tables: an inheritance child of a listed table says so and how
// to capture it; any other table was added to the publication by someone
// else (or the publication is not walrelay's alone).
func (s *session) warnDropped(c *captureSet, oid uint32, name string) {
	if parent, ok := c.children[oid]; ok {
		s.log.Warn().Str("table", name).Str("inherits_from", parent).Str("publication", s.cfg.Postgres.Publication).
			Str("fix", fmt.Sprintf("add %s to postgres.tables if its rows should be captured", name)).
			Msg(msgInheritChild)
		return
	}
	s.log.Warn().Str("table", name).Str("publication", s.cfg.Postgres.Publication).
		Msg("the publication publishes a table outside postgres.tables: its changes are not captured " +
			"(add it to postgres.tables to capture it, or remove it from the publication)")
}
