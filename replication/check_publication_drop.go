package replication

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// droppedMembers returns, in order, the tables pub lists directly
// (pg_publication_rel) that the capture set o.Tables lacks: those walrelay,
// managing pub under a rules file, drops on start with ALTER PUBLICATION
// ... DROP TABLE (pipeline's syncPublication, which compares the same
// lists; tables of a listed schema are never dropped). PostgreSQL runs
// that only for the owner of the publication (or a superuser): owning the
// tables is not needed. nil without rules, for an unmanaged publication
// and for a FOR ALL TABLES one (checkPublicationReplace).
func droppedMembers(ctx context.Context, db *pgx.Conn, o CheckOptions, pub Publication) ([]string, error) {
	if !o.Managed || !o.Rules || pub.AllTables {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text FROM pg_publication_rel pr
		JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE pr.prpubid = $1 ORDER BY 1, 2`, pub.OID)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables of publication %q: %w", pub.Name, err)
	}
	have, err := collectNames(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing tables of publication %q: %w", pub.Name, err)
	}
	var drop []string
	for _, t := range have {
		if !contains(o.Tables, t) {
			drop = append(drop, t)
		}
	}
	return drop, nil
}

// dropStatement is the ALTER PUBLICATION ... DROP TABLE run issues for
// drop (droppedMembers), as a check fix shows it.
func dropStatement(pub string, drop []string) string {
	return "ALTER PUBLICATION " + pgx.Identifier{pub}.Sanitize() + " DROP TABLE " + quoteTables(drop) + ";"
}

// dropVerb is what a finding says walrelay cannot do with the tables it
// drops: "drop them", or "drop those" after what it cannot do with others.
func dropVerb(after bool) string {
	if after {
		return "drop those"
	}
	return "drop them"
}
