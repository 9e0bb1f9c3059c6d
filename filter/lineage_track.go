package filter

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/pgident"
)

// LineageOnly returns rules that capture every table and hide no column,
// for keeping the column lineage without a rules file (postgres.tables, or
// every table): the pipeline records the relation of each captured change
// with ObserveLineage, and saves, seeds and reconciles the lineage as with
// a rules file, so that a table whose columns changed while walrelay was
// stopped is reported at start (StoppedChanges). They decide no change.
func LineageOnly() *Rules {
	return &Rules{Default: DefaultCapture, tables: map[*event.Relation]*tableState{}, versions: newVersions(),
		lineage: newLineage()}
}

// ObserveLineage records rel, seen with a change at lsn (0: unknown), as
// its table's newest version, as Apply does for a relation it has not seen
// before. It takes a lock: call it once per relation version, not per
// event. Reader goroutine only, like Apply.
func (rs *Rules) ObserveLineage(rel *event.Relation, lsn event.LSN) {
	if rs.lineage == nil {
		rs.lineage = newLineage()
	}
	rs.lineage.observe(rel, lsn)
}

// lineageTablesSQL lists the tables a publication can publish under their
// own name (see tablesSQL): ordinary and, from PostgreSQL 13 on,
// partitioned tables, their partitions left out there (a publication
// made by walrelay publishes their changes under the root's name).
const lineageTablesSQL = `SELECT c.oid::int8, n.nspname::text, c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (c.relkind = 'r' OR c.relkind = 'p' AND current_setting('server_version_num')::int >= 130000)
  AND NOT (c.relispartition AND current_setting('server_version_num')::int >= 130000)
  AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

// LineageCandidates returns the database's publishable tables (see
// lineageTablesSQL) for which keep, given the table's qualified name
// (Table.QualifiedName), is true: OID -> schema.table, for TrackTables.
func LineageCandidates(ctx context.Context, q Querier, keep func(name string) bool) (map[uint32]string, error) {
	rows, err := q.Query(ctx, lineageTablesSQL)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables from pg_class for the column lineage: %w", err)
	}
	out := map[uint32]string{}
	var (
		oid          int64
		schema, name string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &schema, &name}, func() error {
		if qn := pgident.Format(schema, name); keep(qn) {
			out[uint32(oid)] = qn
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables from pg_class for the column lineage: %w", err)
	}
	return out, nil
}

// TrackTables adds to the lineage the tables of tables (OID ->
// schema.table: the tables captured at a session's start, see
// LineageCandidates) that it does not know yet, with their columns in the
// catalog as their shape, as a table saved without its columns is seeded
// (see SeedLineage). So a table no change of which has reached walrelay (an
// empty or idle one) is saved too, and a change of its columns while
// walrelay is stopped is reported at the next start (StoppedChanges). It
// records no columns for the rules: the renames of a masked or excluded
// column are still followed from the first change of its table that
// reaches them (observe takes that change's relation as the table's
// first), as before. One catalog query for the tables it does not know,
// none when it knows them all; the lineage is then saved at the next save.
// Once it ran, the lineage is saved as Complete (every captured table in
// it), so that a start from it knows a table it lacks was not captured
// (GuardResume). Call it after ReconcileLineage, before the first Apply or
// ObserveLineage of the session.
func (rs *Rules) TrackTables(ctx context.Context, q Querier, tables map[uint32]string) error {
	if rs.lineage == nil {
		rs.lineage = newLineage()
	}
	l := rs.lineage
	oids := l.unknown(tables)
	var cat map[uint32][]CatalogColumn
	if len(oids) > 0 {
		var err error
		if cat, _, err = readLineageCatalog(ctx, q, oids); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.tracked { // every captured table is in it: saved with LineageState.Complete from now on
		l.tracked, l.changed = true, true
	}
	for _, oid := range oids {
		cols, _ := publishedColumns(cat[oid])
		if _, ok := l.tables[oid]; ok || len(cols) == 0 { // dropped since it was listed, or no column to follow
			continue
		}
		l.tables[oid] = &tableLineage{name: tables[oid], shape: shapeOf(cols)}
		l.changed = true
	}
	return nil
}

// unknown returns, sorted, the OIDs of tables the lineage does not know.
func (l *lineage) unknown(tables map[uint32]string) []uint32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []uint32
	for oid := range tables {
		if _, ok := l.tables[oid]; !ok {
			out = append(out, oid)
		}
	}
	slices.Sort(out)
	return out
}
