package pipeline

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/snapshot"
)

// snapshotTables is the hook that decides which tables the snapshot reads:
// postgres.tables when set, else every table of the publication (which
// preparePublication has just made match the capture set); walrelay's own
// tables never. Each row then goes through route like a streamed change, so
// the filter rules decide what is published; narrowing this list to the
// rules' tables only saves reading tables whose rows would all be dropped.
// Called on the session goroutine during setup, on s.db.
func (s *session) snapshotTables(ctx context.Context) ([]snapshot.Table, error) {
	var tables []snapshot.Table
	if len(s.cfg.Postgres.Tables) > 0 {
		for _, name := range s.cfg.Postgres.Tables {
			t, err := snapshot.ParseTable(name)
			if err != nil {
				return nil, fatal(err)
			}
			tables = append(tables, t)
		}
	} else {
		var err error
		if tables, err = publicationTables(ctx, s.db, s.cfg.Postgres.Publication); err != nil {
			return nil, err
		}
	}
	excluded := excludedTables(s.cfg)
	out := tables[:0]
	for _, t := range tables {
		if !excluded[t.String()] {
			out = append(out, t)
		}
	}
	return out, nil
}

// publicationTables lists the tables of a publication.
func publicationTables(ctx context.Context, db *pgx.Conn, pub string) ([]snapshot.Table, error) {
	rows, err := db.Query(ctx, `SELECT schemaname::text, tablename::text FROM pg_catalog.pg_publication_tables
		WHERE pubname = $1`, pub)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the tables of publication %q: %w", pub, err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (snapshot.Table, error) {
		var t snapshot.Table
		err := r.Scan(&t.Schema, &t.Name)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing the tables of publication %q: %w", pub, err)
	}
	return tables, nil
}
