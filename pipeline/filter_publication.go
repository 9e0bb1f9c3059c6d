package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/filter"
)

// pubTable is a table as (schema, name), so names with dots stay unambiguous.
type pubTable struct{ schema, name string }

func (t pubTable) String() string { return t.schema + "." + t.name }

func (t pubTable) sql() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// excludedTables are walrelay's own tables: never captured, never published.
func (s *session) excludedTables() map[string]bool { return excludedTables(s.cfg) }

// rulesTables returns the tables the rules capture, in catalog order.
func rulesTables(ctx context.Context, db *pgx.Conn, rules *filter.Rules, excluded map[string]bool) ([]pubTable, error) {
	tables, err := filter.Tables(ctx, db)
	if err != nil {
		return nil, err
	}
	var out []pubTable
	for _, t := range tables {
		if name := t.QualifiedName(); rules.Captures(name) && !excluded[name] {
			out = append(out, pubTable{t.Schema, t.Name})
		}
	}
	return out, nil
}

// publicationMembers returns the tables a publication holds and whether it
// is FOR ALL TABLES; exists is false when there is no such publication.
func publicationMembers(ctx context.Context, db *pgx.Conn, pub string) (tables []pubTable, all, exists bool, err error) {
	err = db.QueryRow(ctx, "SELECT puballtables FROM pg_publication WHERE pubname = $1", pub).Scan(&all)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("postgres: reading publication %q: %w", pub, err)
	}
	rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text
		FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
		JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE p.pubname = $1 ORDER BY 1, 2`, pub)
	if err == nil {
		tables, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (pubTable, error) {
			var t pubTable
			return t, r.Scan(&t.schema, &t.name)
		})
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("postgres: listing tables of publication %q: %w", pub, err)
	}
	return tables, all, true, nil
}

// syncPublication makes the publication hold exactly the tables the rules
// capture, in one transaction: it creates the publication when missing,
// replaces a FOR ALL TABLES one (DROP and CREATE, atomically), and otherwise
// adds and drops the difference. It reports whether anything changed and
// logs one line when it did. beforeAdd, if not nil, is called with the
// tables an existing publication is about to gain, before it gains them
// (catch-up snapshots, catchup.go); its error cancels the change.
//
// PostgreSQL applies a change of the publication to transactions that commit
// after it: rows written to a new table before the ALTER commits are not
// decoded for walrelay (a poll interval bounds that window).
func syncPublication(ctx context.Context, db *pgx.Conn, pub string, rules *filter.Rules,
	excluded map[string]bool, beforeAdd func(context.Context, []string) error, log zerolog.Logger) (bool, error) {
	want, err := rulesTables(ctx, db, rules, excluded)
	if err != nil {
		return false, err
	}
	have, all, exists, err := publicationMembers(ctx, db, pub)
	if err != nil {
		return false, err
	}
	var stmts []string
	add, drop := diffPubTables(want, have)
	switch {
	case !exists || all:
		if exists {
			stmts = append(stmts, "DROP PUBLICATION "+pgx.Identifier{pub}.Sanitize())
		}
		stmts = append(stmts, createPublicationFor(pub, want))
		add, drop = want, nil
	case len(add) == 0 && len(drop) == 0:
		return false, nil
	default:
		if len(add) > 0 && beforeAdd != nil {
			if err := beforeAdd(ctx, qualifiedNames(add)); err != nil {
				return false, err
			}
		}
		if len(add) > 0 {
			stmts = append(stmts, "ALTER PUBLICATION "+pgx.Identifier{pub}.Sanitize()+" ADD TABLE "+pubTableList(add))
		}
		if len(drop) > 0 {
			stmts = append(stmts, "ALTER PUBLICATION "+pgx.Identifier{pub}.Sanitize()+" DROP TABLE "+pubTableList(drop))
		}
	}
	if err := execInTx(ctx, db, stmts); err != nil {
		return false, fmt.Errorf("postgres: updating publication %q from the rules: %w "+
			"(the role must own the publication and the tables, or set publication.manage: false and manage it yourself)", pub, err)
	}
	log.Info().Str("publication", pub).Bool("created", !exists).Bool("was_all_tables", all).
		Strs("added", pubTableNames(add)).Strs("removed", pubTableNames(drop)).Int("tables", len(want)).Msg("publication tables set from the rules")
	return true, nil
}

func createPublicationFor(pub string, tables []pubTable) string {
	sql := "CREATE PUBLICATION " + pgx.Identifier{pub}.Sanitize()
	if len(tables) > 0 {
		sql += " FOR TABLE " + pubTableList(tables)
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
// must exist; it is used as it is. Captured tables it lacks are logged, since
// their changes will never arrive.
func checkUnmanagedPublication(ctx context.Context, db *pgx.Conn, pub string, rules *filter.Rules,
	excluded map[string]bool, log zerolog.Logger) error {
	have, all, exists, err := publicationMembers(ctx, db, pub)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("publication %q does not exist and publication.manage is false: "+
			"create it (CREATE PUBLICATION %s FOR TABLE ...) or set publication.manage: true", pub, pub)
	}
	if all {
		return nil
	}
	want, err := rulesTables(ctx, db, rules, excluded)
	if err != nil {
		return err
	}
	if missing, _ := diffPubTables(want, have); len(missing) > 0 {
		log.Warn().Str("publication", pub).Strs("missing", pubTableNames(missing)).
			Msg("the rules capture tables the unmanaged publication does not hold; their changes will not arrive")
	}
	return nil
}
