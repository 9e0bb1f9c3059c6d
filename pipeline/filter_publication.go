package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
)

// pubTable is a table as (schema, name), so names with dots stay unambiguous.
type pubTable struct{ schema, name string }

func (t pubTable) String() string { return pgident.Format(t.schema, t.name) }

func (t pubTable) sql() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// excludedTables are walrelay's own tables: never captured, never published.
func (s *session) excludedTables() map[string]bool { return excludedTables(s.cfg) }

// rulesTables returns the tables the rules capture, sorted by schema and
// name. With viaRoot (a publication with publish_via_partition_root) the
// partitioned tables are candidates too, and a captured partition whose
// partitioned ancestor is captured is left out: PostgreSQL publishes its
// changes as the ancestor's, and the ancestor's snapshot reads its rows.
func rulesTables(ctx context.Context, db *pgx.Conn, rules *filter.Rules, excluded map[string]bool, viaRoot bool) ([]pubTable, error) {
	tables, err := filter.Tables(ctx, db)
	if err != nil {
		return nil, err
	}
	var cands []pubTable
	for _, t := range tables {
		cands = append(cands, pubTable{t.Schema, t.Name})
	}
	var parts partitions
	if viaRoot {
		if parts, err = readPartitions(ctx, db); err != nil {
			return nil, err
		}
		// Compact: a filter.Tables that lists partitioned tables too
		// must not give them twice.
		cands = append(cands, parts.parents...)
		slices.SortFunc(cands, comparePubTables)
		cands = slices.Compact(cands)
	}
	captured := map[pubTable]bool{}
	for _, t := range cands {
		if name := t.String(); rules.Captures(name) && !excluded[name] {
			captured[t] = true
		}
	}
	var out []pubTable
	for _, t := range cands {
		if captured[t] && !parts.coveredBy(t, captured) {
			out = append(out, t)
		}
	}
	return out, nil
}

// publication is what syncPublication needs of a publication: its row in
// pg_publication and the tables it lists (pg_publication_rel).
type publication struct {
	replication.Publication
	tables []pubTable
}

// readPublication reads pub and the tables it lists directly
// (pg_publication_rel: a partitioned table, not its partitions).
func readPublication(ctx context.Context, db *pgx.Conn, pub string) (publication, error) {
	p := publication{}
	var err error
	if p.Publication, err = replication.ReadPublication(ctx, db, pub); err != nil || !p.Exists {
		return p, err
	}
	rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text
		FROM pg_publication_rel pr JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE pr.prpubid = $1 ORDER BY 1, 2`, p.OID)
	if err == nil {
		p.tables, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (pubTable, error) {
			var t pubTable
			return t, r.Scan(&t.schema, &t.name)
		})
	}
	if err != nil {
		return p, fmt.Errorf("postgres: listing tables of publication %q: %w", pub, err)
	}
	return p, nil
}

// syncPublication makes the publication hold exactly the tables the rules
// capture, in one transaction: it creates the publication when missing,
// replaces a FOR ALL TABLES one (DROP and CREATE, atomically), and otherwise
// adds and drops the difference. On PostgreSQL 13 and later the publication
// has publish_via_partition_root, so a captured partitioned table is
// published, and snapshotted, under its own name (an existing publication
// without it gets it, logged). It reports whether anything changed and
// logs one line when it did. beforeAdd, if not nil, is called with the
// tables an existing publication is about to gain, before it gains them
// (catch-up snapshots, catchup.go); its error cancels the change.
//
// PostgreSQL applies a change of the publication to transactions that commit
// after it: rows written to a new table before the ALTER commits are not
// decoded for walrelay (a poll interval bounds that window).
func syncPublication(ctx context.Context, db *pgx.Conn, pub string, rules *filter.Rules,
	excluded map[string]bool, beforeAdd func(context.Context, []string) error, log zerolog.Logger) (bool, error) {
	version, err := replication.ServerVersion(ctx, db)
	if err != nil {
		return false, err
	}
	viaRoot := version >= replication.ViaRootVersion
	want, err := rulesTables(ctx, db, rules, excluded, viaRoot)
	if err != nil {
		return false, err
	}
	have, err := readPublication(ctx, db, pub)
	if err != nil {
		return false, err
	}
	var stmts []string
	name := pgx.Identifier{pub}.Sanitize()
	add, drop := diffPubTables(want, have.tables)
	setRoot := false // only a publication of a partitioned table needs it (replication.PublishesPartitioned)
	if viaRoot && have.Exists && !have.AllTables && !have.ViaRoot {
		if setRoot, err = replication.PublishesPartitioned(ctx, db, have.Publication, pubTableNames(add), version); err != nil {
			return false, err
		}
	}
	switch {
	case !have.Exists || have.AllTables:
		if have.Exists {
			stmts = append(stmts, "DROP PUBLICATION "+name)
		}
		stmts = append(stmts, createPublicationFor(pub, want, viaRoot))
		add, drop = want, nil
	case len(add) == 0 && len(drop) == 0 && !setRoot:
		return false, nil
	default:
		if len(add) > 0 && beforeAdd != nil {
			if err := beforeAdd(ctx, qualifiedNames(add)); err != nil {
				return false, err
			}
		}
		if setRoot {
			stmts = append(stmts, "ALTER PUBLICATION "+name+" SET (publish_via_partition_root = true)")
		}
		if len(add) > 0 {
			stmts = append(stmts, "ALTER PUBLICATION "+name+" ADD TABLE "+pubTableList(add))
		}
		if len(drop) > 0 {
			stmts = append(stmts, "ALTER PUBLICATION "+name+" DROP TABLE "+pubTableList(drop))
		}
	}
	if err := execInTx(ctx, db, stmts); err != nil {
		return false, fmt.Errorf("postgres: updating publication %q from the rules: %w "+
			"(the role must own the publication, and the tables it adds: run it as the owner, as walrelay check prints it, "+
			"or set publication.manage: false and manage the publication yourself)", pub, err)
	}
	if setRoot {
		log.Info().Str("publication", pub).Msg(replication.ViaRootSetMessage)
	}
	log.Info().Str("publication", pub).Bool("created", !have.Exists).Bool("was_all_tables", have.AllTables).
		Strs("added", pubTableNames(add)).Strs("removed", pubTableNames(drop)).Int("tables", len(want)).Msg("publication tables set from the rules")
	return true, nil
}

func createPublicationFor(pub string, tables []pubTable, viaRoot bool) string {
	sql := "CREATE PUBLICATION " + pgx.Identifier{pub}.Sanitize()
	if len(tables) > 0 {
		sql += " FOR TABLE " + pubTableList(tables)
	}
	if viaRoot {
		sql += replication.ViaRootOption
	}
	return sql
}

// diffPubTables returns what want has and have lacks, and the reverse.
func diffPubTables(want, have []pubTable) (add, drop []pubTable) {
	in := func(list []pubTable, t pubTable) bool {
		for _, x := range list {
			if x == t {
				return true
			}
		}
		return false
	}
	for _, t := range want {
		if !in(have, t) {
			add = append(add, t)
		}
	}
	for _, t := range have {
		if !in(want, t) {
			drop = append(drop, t)
		}
	}
	return add, drop
}

func pubTableList(ts []pubTable) string {
	q := make([]string, len(ts))
	for i, t := range ts {
		q[i] = t.sql()
	}
	return strings.Join(q, ", ")
}

func pubTableNames(ts []pubTable) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

// execInTx runs stmts in one transaction.
func execInTx(ctx context.Context, db *pgx.Conn, stmts []string) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

// checkUnmanagedPublication is publication.manage: false: the publication
// must exist; it is used as it is. Captured tables it does not publish
// (pg_publication_tables: partitions resolved as the publication publishes
// them, schemas expanded) are logged, since their changes will never
// arrive, and so are partitioned tables it publishes without
// publish_via_partition_root, since their changes and snapshot rows arrive
// under each partition's name (warnNotViaRoot). A publication that cannot
// serve the rules is warned about, not refused, as a table it lacks is; a
// captured table it publishes that the role may not read is refused
// (requireRulesSelect).
func checkUnmanagedPublication(ctx context.Context, db *pgx.Conn, pub string, rules *filter.Rules,
	excluded map[string]bool, log zerolog.Logger) error {
	p, err := readPublication(ctx, db, pub)
	if err != nil {
		return err
	}
	if !p.Exists {
		return fmt.Errorf("publication %q does not exist and publication.manage is false: "+
			"create it (CREATE PUBLICATION %s FOR TABLE ...%s) or set publication.manage: true", pub, pub, replication.ViaRootOption)
	}
	if err := warnNotViaRoot(ctx, db, p.Publication, rules, log); err != nil {
		return err
	}
	if p.AllTables {
		return requireRulesSelect(ctx, db, rules, excluded, p.ViaRoot, nil)
	}
	want, err := rulesTables(ctx, db, rules, excluded, p.ViaRoot)
	if err != nil {
		return err
	}
	published, err := publicationTables(ctx, db, pub)
	if err != nil {
		return err
	}
	have := make([]pubTable, len(published))
	for i, t := range published {
		have[i] = pubTable{t.Schema, t.Name}
	}
	if missing, _ := diffPubTables(want, have); len(missing) > 0 {
		log.Warn().Str("publication", pub).Strs("missing", pubTableNames(missing)).
			Msg("the rules capture tables the unmanaged publication does not hold; their changes will not arrive")
	}
	return requireRulesSelect(ctx, db, rules, excluded, p.ViaRoot, have)
}

// warnNotViaRoot logs the partitioned tables an unmanaged publication
// publishes without publish_via_partition_root, with the fix: those of
// which nothing is published, since the rules capture none of their
// partitions, under whose names PostgreSQL sends their changes and the
// snapshot reads their rows (viaRootSplit), and the others, published
// under their partitions' names and topics.
func warnNotViaRoot(ctx context.Context, db *pgx.Conn, p replication.Publication, rules *filter.Rules, log zerolog.Logger) error {
	version, err := replication.ServerVersion(ctx, db)
	if err != nil || version < replication.ViaRootVersion || p.ViaRoot {
		return err
	}
	parts, err := replication.PublishedPartitioned(ctx, db, p, version)
	if err != nil || len(parts) == 0 {
		return err
	}
	none, some, err := viaRootSplit(ctx, db, parts, rules)
	if err != nil {
		return err
	}
	fix := "ALTER PUBLICATION " + pgx.Identifier{p.Name}.Sanitize() + " SET (publish_via_partition_root = true)"
	if len(none) > 0 {
		log.Warn().Str("publication", p.Name).Strs("partitioned_tables", none).Str("fix", fix).
			Msg("the unmanaged publication lacks publish_via_partition_root: nothing of these partitioned tables is published, " +
				"since PostgreSQL sends their changes under their partitions' names, the snapshot reads the partitions too, " +
				"and the rules capture none of the partitions")
	}
	if len(some) > 0 {
		log.Warn().Str("publication", p.Name).Strs("partitioned_tables", some).Str("fix", fix).
			Msg("the unmanaged publication lacks publish_via_partition_root: the changes and snapshot rows of these partitioned tables " +
				"are published under each partition's name and topic, as the rules decide the partitions, not under the partitioned table's")
	}
	return nil
}

// partitions is the partition tree of the database: the partitioned tables
// and each partition's partitioned ancestors.
type partitions struct {
	parents   []pubTable              // relkind 'p', sorted
	ancestors map[pubTable][]pubTable // partition -> its partitioned ancestors
}

// coveredBy reports whether an ancestor of t is in set.
func (p partitions) coveredBy(t pubTable, set map[pubTable]bool) bool {
	for _, a := range p.ancestors[t] {
		if set[a] {
			return true
		}
	}
	return false
}

// partitionsSQL lists every partition with each of its ancestors (level 1
// is the parent), then every partitioned table with no ancestor row.
const partitionsSQL = replication.PartitionAncestorsSQL + `
UNION ALL
SELECT n.nspname::text, c.relname::text, NULL, NULL FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'p' AND c.relpersistence = 'p'
	AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_temp\_%'
ORDER BY 1, 2`

// readPartitions reads the partition tree (see partitions).
func readPartitions(ctx context.Context, db *pgx.Conn) (partitions, error) {
	p := partitions{ancestors: map[pubTable][]pubTable{}}
	rows, err := db.Query(ctx, partitionsSQL)
	if err != nil {
		return p, fmt.Errorf("postgres: listing partitioned tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t pubTable
		var as, an *string
		if err := rows.Scan(&t.schema, &t.name, &as, &an); err != nil {
			return p, fmt.Errorf("postgres: listing partitioned tables: %w", err)
		}
		if as == nil {
			p.parents = append(p.parents, t)
		} else {
			p.ancestors[t] = append(p.ancestors[t], pubTable{*as, *an})
		}
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("postgres: listing partitioned tables: %w", err)
	}
	return p, nil
}

// comparePubTables orders tables by schema, then name.
func comparePubTables(a, b pubTable) int {
	if c := strings.Compare(a.schema, b.schema); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}
