package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
)

// EnsurePublication creates the publication when missing: FOR TABLE tables,
// or FOR ALL TABLES when tables is empty, WITH (publish_via_partition_root =
// true) on PostgreSQL 13 and later, so a partitioned table's changes are
// published under its own name, as its snapshot reads it (the setting
// Debezium users give their publications). An existing publication gets the
// configured tables it does not hold directly (pg_publication_rel, or its
// schema in pg_publication_namespace: pg_publication_tables lists a
// partitioned table's partitions, not the table), and
// publish_via_partition_root when it lacks it (logged), in one transaction;
// nothing is ever removed from it. A configured table that does not exist
// (renamed or dropped) is an error that names it and says to fix
// postgres.tables. A role that may not read a configured table is an error
// with the GRANT that fixes it (RequireSelect), before any slot exists. A
// publication this process found or created before and finds missing now
// was dropped while walrelay ran: it is created again with a warning that
// says so (PublicationDroppedMessage). Called by the session goroutine
// before streaming, on the SQL connection db.
func EnsurePublication(ctx context.Context, db *pgx.Conn, name string, tables []string, log zerolog.Logger) error {
	version, err := ServerVersion(ctx, db)
	if err != nil {
		return err
	}
	if err := RequireSelect(ctx, db, tables); err != nil {
		return err
	}
	pub, err := ReadPublication(ctx, db, name)
	if err != nil {
		return err
	}
	key := publicationKey(db.Config().Host, db.Config().Database, name)
	if !pub.Exists {
		if err := RequireTables(ctx, db, tables); err != nil {
			return err
		}
		if _, seen := seenPublications.Load(key); seen {
			log.Warn().Str("publication", name).Msg(PublicationDroppedMessage)
		}
		if err := createPublication(ctx, db, name, tables, version >= ViaRootVersion, log); err != nil {
			return err
		}
		seenPublications.Store(key, true)
		return nil
	}
	seenPublications.Store(key, true)
	var missing []string
	if !pub.AllTables && len(tables) > 0 {
		if missing, err = MissingMembers(ctx, db, pub, tables, version); err != nil {
			return err
		}
		if err := RequireTables(ctx, db, missing); err != nil {
			return err
		}
	}
	setRoot := false
	if version >= ViaRootVersion && !pub.ViaRoot {
		if setRoot, err = PublishesPartitioned(ctx, db, pub, missing, version); err != nil {
			return err
		}
	}
	return alterPublication(ctx, db, name, missing, setRoot, log)
}

// PublishesPartitioned reports whether pub, with the tables add added,
// publishes a partitioned table: only then does it need
// publish_via_partition_root, so a publication its owner created for plain
// tables (README: "Running beside an existing database") is left alone by
// a role that may not alter it.
func PublishesPartitioned(ctx context.Context, db *pgx.Conn, pub Publication, add []string, version int) (bool, error) {
	listed, err := PublishedPartitioned(ctx, db, pub, version)
	if err != nil || len(listed) > 0 {
		return len(listed) > 0, err
	}
	if len(add) == 0 {
		return false, nil
	}
	var n int
	schemas, tables := splitNames(add)
	err = db.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'p' AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, schemas, tables).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("postgres: looking for partitioned tables in postgres.tables: %w", err)
	}
	return n > 0, nil
}

// ViaRootVersion is the first server_version_num with
// publish_via_partition_root (PostgreSQL 13).
const ViaRootVersion = 130000

// schemaPubVersion is the first server_version_num with
// pg_publication_namespace (FOR TABLES IN SCHEMA, PostgreSQL 15).
const schemaPubVersion = 150000

// ViaRootOption is the WITH clause of a publication walrelay creates.
const ViaRootOption = " WITH (publish_via_partition_root = true)"

// Publication is a publication's row in pg_publication.
type Publication struct {
	Name      string
	OID       uint32
	Exists    bool
	AllTables bool
	// ViaRoot is pubviaroot (PostgreSQL 13+; false before): changes of a
	// partition are published as its topmost ancestor in the publication.
	ViaRoot bool
}

// ReadPublication reads the publication name; Exists is false when there is
// no such publication.
func ReadPublication(ctx context.Context, db *pgx.Conn, name string) (Publication, error) {
	p := Publication{Name: name}
	// to_jsonb reads pubviaroot as NULL on servers before 13.
	err := db.QueryRow(ctx, `SELECT oid, puballtables, coalesce((to_jsonb(p) ->> 'pubviaroot')::bool, false)
		FROM pg_publication p WHERE pubname = $1`, name).Scan(&p.OID, &p.AllTables, &p.ViaRoot)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("postgres: reading publication %q: %w", name, err)
	}
	p.Exists = true
	return p, nil
}

// ServerVersion returns db's server_version_num, e.g. 150004.
func ServerVersion(ctx context.Context, db *pgx.Conn) (int, error) {
	var v int
	if err := db.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: reading server_version_num: %w", err)
	}
	return v, nil
}

func createPublication(ctx context.Context, db *pgx.Conn, name string, tables []string, viaRoot bool, log zerolog.Logger) error {
	sql := "CREATE PUBLICATION " + pgx.Identifier{name}.Sanitize()
	if len(tables) == 0 {
		sql += " FOR ALL TABLES"
	} else {
		sql += " FOR TABLE " + quoteTables(tables)
	}
	if viaRoot {
		sql += ViaRootOption
	}
	if _, err := db.Exec(ctx, sql); err != nil {
		fix := "create it as a superuser or the tables' owner, or grant this role ownership"
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "25006" { // read_only_sql_transaction: a standby
			fix = "the server is a read-only standby: create the publication on the primary, or point postgres.dsn at the primary"
		}
		return fmt.Errorf("postgres: %s: %w (%s)", sql, err, fix)
	}
	log.Info().Str("publication", name).Strs("tables", tables).Bool("publish_via_partition_root", viaRoot).Msg("created publication")
	return nil
}

// alterPublication adds tables to the publication and, with setRoot, sets
// publish_via_partition_root, in one transaction; one log line each.
func alterPublication(ctx context.Context, db *pgx.Conn, name string, add []string, setRoot bool, log zerolog.Logger) error {
	pub := pgx.Identifier{name}.Sanitize()
	var stmts []string
	if setRoot {
		stmts = append(stmts, "ALTER PUBLICATION "+pub+" SET (publish_via_partition_root = true)")
	}
	if len(add) > 0 {
		stmts = append(stmts, "ALTER PUBLICATION "+pub+" ADD TABLE "+quoteTables(add))
	}
	if len(stmts) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("postgres: %s: %w (the role must own the publication and the tables; or run it "+
					"yourself as their owner)", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if setRoot {
		log.Info().Str("publication", name).Msg(ViaRootSetMessage)
	}
	if len(add) > 0 {
		log.Info().Str("publication", name).Strs("added", add).Msg("added tables to publication")
	}
	return nil
}

// ViaRootSetMessage is the log line of a publication that was given
// publish_via_partition_root.
const ViaRootSetMessage = "set publish_via_partition_root on the publication: changes of partitioned tables " +
	"committed from now on are published under the partitioned table's name and topic, as its snapshot is"

// MissingMembers returns the tables of want ("schema.table") that pub does
// not hold directly: neither listed (pg_publication_rel) nor in a listed
// schema (pg_publication_namespace, PostgreSQL 15+). A partitioned table
// listed without publish_via_partition_root shows in pg_publication_tables
// as its partitions, so that view is not asked. EnsurePublication adds
// them; pipeline's recordCatchup records their catch-up first.
func MissingMembers(ctx context.Context, db *pgx.Conn, pub Publication, want []string, version int) ([]string, error) {
	sql := `SELECT n.nspname::text, c.relname::text FROM pg_publication_rel pr
		JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE pr.prpubid = $1`
	if version >= schemaPubVersion {
		sql += ` UNION SELECT n.nspname::text, c.relname::text FROM pg_publication_namespace pn
		JOIN pg_namespace n ON n.oid = pn.pnnspid JOIN pg_class c ON c.relnamespace = n.oid
		WHERE pn.pnpubid = $1 AND c.relkind IN ('r', 'p')`
	}
	rows, err := db.Query(ctx, sql, pub.OID)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables of publication %q: %w", pub.Name, err)
	}
	have, err := collectNames(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables of publication %q: %w", pub.Name, err)
	}
	var missing []string
	for _, t := range want {
		if !contains(have, t) {
			missing = append(missing, t)
		}
	}
	return missing, nil
}

// RequireTables returns an error naming the tables of names ("schema.table",
// from postgres.tables) that are not tables in the database: renamed or
// dropped since the config was written, or never there
// (*MissingTablesError); or else the first that exists but cannot be
// captured, a view or an unlogged table (*UncapturableTableError).
func RequireTables(ctx context.Context, db *pgx.Conn, names []string) error {
	if len(names) == 0 {
		return nil
	}
	schemas, tables := splitNames(names)
	rows, err := db.Query(ctx, `SELECT x.i::int, coalesce(c.relkind::text, ''), coalesce(c.relpersistence::text, '')
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(s, t, i)
		LEFT JOIN pg_namespace n ON n.nspname = x.s
		LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t
		WHERE c.oid IS NULL OR c.relkind NOT IN ('r', 'p') OR c.relpersistence <> 'p'
		ORDER BY x.i`, schemas, tables)
	if err != nil {
		return fmt.Errorf("postgres: looking up the tables of postgres.tables: %w", err)
	}
	type found struct {
		i                 int
		kind, persistence string
	}
	bad, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
		var f found
		err := r.Scan(&f.i, &f.kind, &f.persistence)
		return f, err
	})
	if err != nil {
		return fmt.Errorf("postgres: looking up the tables of postgres.tables: %w", err)
	}
	var absent []string
	var odd *UncapturableTableError
	for _, f := range bad {
		name := names[f.i-1]
		if f.kind == "" {
			absent = append(absent, name)
		} else if odd == nil {
			odd = &UncapturableTableError{Table: name, Kind: relationKind(f.kind, f.persistence)}
		}
	}
	switch {
	case len(absent) > 0:
		return &MissingTablesError{Tables: absent}
	case odd != nil:
		return odd
	}
	return nil
}

// MissingTablesError says that configured tables do not exist.
type MissingTablesError struct{ Tables []string }

func (e *MissingTablesError) Error() string {
	return fmt.Sprintf("postgres.tables names %s, which is not a table in the database (renamed or dropped?): "+
		"set postgres.tables to each table's current schema.name (or capture it with the rules file), or remove it",
		strings.Join(e.Tables, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
