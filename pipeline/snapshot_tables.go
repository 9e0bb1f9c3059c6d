package pipeline

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/snapshot"
)

// snapshotTables is the hook that decides which tables the snapshot reads:
// postgres.tables when set, else every table of the publication (which
// preparePublication has just made match the capture set); walrelay's own
// tables never. A partitioned table is read with its partitions and its rows
// published under its own name, as a publication with
// publish_via_partition_root publishes its changes; so a listed partition
// whose partitioned ancestor is listed too is not read again (the
// publication view already leaves such partitions out). Each row then goes
// through route like a streamed change, so the filter rules decide what is
// published; narrowing this list to the rules' tables only saves reading
// tables whose rows would all be dropped. Called on the session goroutine
// during setup, on s.db.
func (s *session) snapshotTables(ctx context.Context) ([]snapshot.Table, error) {
	var tables []snapshot.Table
	if len(s.cfg.Postgres.Tables) > 0 {
		for _, name := range s.listedTables() {
			t, err := snapshot.ParseTable(name)
			if err != nil {
				return nil, fatal(err)
			}
			tables = append(tables, t)
		}
		var err error
		if tables, err = s.withoutCoveredPartitions(ctx, tables); err != nil {
			return nil, err
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

// withoutCoveredPartitions drops from tables the partitions whose
// partitioned ancestor is in tables too, when the publication publishes
// via the root (otherwise each is published, and read, on its own).
func (s *session) withoutCoveredPartitions(ctx context.Context, tables []snapshot.Table) ([]snapshot.Table, error) {
	pub, err := replication.ReadPublication(ctx, s.db, s.cfg.Postgres.Publication)
	if err != nil || !pub.ViaRoot {
		return tables, err
	}
	parts, err := readPartitions(ctx, s.db)
	if err != nil {
		return nil, err
	}
	listed := make(map[pubTable]bool, len(tables))
	for _, t := range tables {
		listed[pubTable{t.Schema, t.Name}] = true
	}
	var out []snapshot.Table
	var covered []string
	for _, t := range tables {
		if parts.coveredBy(pubTable{t.Schema, t.Name}, listed) {
			covered = append(covered, t.String())
		} else {
			out = append(out, t)
		}
	}
	if len(covered) > 0 {
		s.log.Info().Strs("tables", covered).Msg("snapshot: partitions listed with their partitioned table are read once, as the partitioned table")
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
