package replication

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/pgident"
)

// notOwnedQuery lists, of the tables named by unnest($1, $2), those the
// current role does not own (directly or through a role it has the
// privileges of), with their owners: CREATE PUBLICATION ... FOR TABLE
// requires owning each. An inheritance parent brings its children, which
// PostgreSQL adds too and checks the same way; a partitioned table brings
// nothing (its partitions are not checked). Names that are no table are
// left out (checkTables reports them).
const notOwnedQuery = `WITH RECURSIVE rels(oid) AS (
	SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
	UNION
	SELECT i.inhrelid FROM rels r JOIN pg_inherits i ON i.inhparent = r.oid
	JOIN pg_class p ON p.oid = r.oid WHERE p.relkind <> 'p'
)
SELECT n.nspname::text, c.relname::text, o.rolname::text, o.rolsuper
FROM rels r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_roles o ON o.oid = c.relowner
WHERE NOT pg_has_role(current_user, c.relowner, 'USAGE')
ORDER BY 1, 2`

// notOwned returns the qualified names of the tables of tables (with an
// inheritance parent's children) the current role does not own, and their
// owners, each once, in order; super says one of the owners is a superuser.
func notOwned(ctx context.Context, db *pgx.Conn, tables []string) (names, owners []string, super bool, err error) {
	schemas, rels := splitNames(tables)
	rows, err := db.Query(ctx, notOwnedQuery, schemas, rels)
	if err != nil {
		return nil, nil, false, fmt.Errorf("reading the owners of the captured tables: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var s, t, owner string
		var ownerSuper bool
		if err := rows.Scan(&s, &t, &owner, &ownerSuper); err != nil {
			return nil, nil, false, fmt.Errorf("reading the owners of the captured tables: %w", err)
		}
		names = append(names, pgident.Format(s, t))
		super = super || ownerSuper
		if !seen[owner] {
			seen[owner] = true
			owners = append(owners, owner)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, fmt.Errorf("reading the owners of the captured tables: %w", err)
	}
	return names, owners, super, nil
}

// checkPublicationOwner is the finding for a missing publication that
// walrelay would create on start with CREATE PUBLICATION ... FOR TABLE:
// PostgreSQL refuses it ("must be owner of table") unless the role owns
// every table it names, so check fails here, with the statement to run as
// the owner, instead of run failing at start. Letting the role act as the
// owners (GRANT owner TO role) is offered too, unless an owner is a
// superuser. nil when the role owns them.
func checkPublicationOwner(ctx context.Context, db *pgx.Conn, o CheckOptions, with string) ([]Finding, error) {
	names, owners, ownerSuper, err := notOwned(ctx, db, o.Tables)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	var user string
	if err := db.QueryRow(ctx, "SELECT current_user::text").Scan(&user); err != nil {
		return nil, fmt.Errorf("reading the role's name: %w", err)
	}
	fix := fmt.Sprintf("as the tables' owner: CREATE PUBLICATION %s FOR TABLE %s%s;",
		pgx.Identifier{o.Publication}.Sanitize(), quoteTables(o.Tables), with)
	if !ownerSuper {
		grants := make([]string, len(owners))
		for i, ow := range owners {
			grants[i] = fmt.Sprintf("GRANT %s TO %s;", pgx.Identifier{ow}.Sanitize(), pgx.Identifier{user}.Sanitize())
		}
		fix += " (or let this role act as their owner: " + strings.Join(grants, " ") + ")"
	}
	return []Finding{{
		What: fmt.Sprintf("publication %s is missing and walrelay cannot create it on start: role %s does not own %s "+
			"(CREATE PUBLICATION ... FOR TABLE needs the owner of every table, or a superuser)", o.Publication, user, strings.Join(names, ", ")),
		Fix: fix,
	}}, nil
}

// pubOwnerQuery reads, for the publication with OID $1, whether the
// current role is a superuser, whether it may act as the publication's
// owner, and the owner's name and superuser flag.
const pubOwnerQuery = `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
	pg_has_role(current_user, p.pubowner, 'USAGE'), o.rolname::text, o.rolsuper
FROM pg_publication p JOIN pg_roles o ON o.oid = p.pubowner WHERE p.oid = $1`

// checkPublicationAdd is the finding for an existing publication that
// lacks captured tables, which walrelay adds on start (a managed
// publication, not FOR ALL TABLES: ALTER PUBLICATION ... ADD TABLE):
// PostgreSQL refuses it ("must be owner of publication", "must be owner of
// table") unless the role owns the publication and every table it adds, so
// check fails here, with the ALTER PUBLICATION to run as the owner, instead
// of run failing at start. As for a missing publication
// (checkPublicationOwner), letting the role act as the owners is offered
// too, unless an owner is a superuser. nil when the role may add them, or
// the publication lacks none.
func checkPublicationAdd(ctx context.Context, db *pgx.Conn, o CheckOptions, pub Publication, version int) ([]Finding, error) {
	if !o.Managed || pub.AllTables || len(o.Tables) == 0 {
		return nil, nil
	}
	missing, err := MissingMembers(ctx, db, pub, o.Tables, version)
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	var super, ownsPub, pubOwnerSuper bool
	var pubOwner string
	if err := db.QueryRow(ctx, pubOwnerQuery, pub.OID).Scan(&super, &ownsPub, &pubOwner, &pubOwnerSuper); err != nil {
		return nil, fmt.Errorf("reading the owner of publication %s: %w", pub.Name, err)
	}
	if super {
		return nil, nil
	}
	names, owners, ownerSuper, err := notOwned(ctx, db, missing)
	if err != nil || ownsPub && len(names) == 0 {
		return nil, err
	}
	var user string
	if err := db.QueryRow(ctx, "SELECT current_user::text").Scan(&user); err != nil {
		return nil, fmt.Errorf("reading the role's name: %w", err)
	}
	var lacks []string
	if !ownsPub {
		lacks = append(lacks, "publication "+pub.Name+" (owner "+pubOwner+")")
		if !slices.Contains(owners, pubOwner) {
			owners = append([]string{pubOwner}, owners...)
		}
		ownerSuper = ownerSuper || pubOwnerSuper
	}
	lacks = append(lacks, names...)
	fix := fmt.Sprintf("as the owner: ALTER PUBLICATION %s ADD TABLE %s;", pgx.Identifier{pub.Name}.Sanitize(), quoteTables(missing))
	if !ownerSuper {
		grants := make([]string, len(owners))
		for i, ow := range owners {
			grants[i] = fmt.Sprintf("GRANT %s TO %s;", pgx.Identifier{ow}.Sanitize(), pgx.Identifier{user}.Sanitize())
		}
		fix += " (or let this role act as the owner: " + strings.Join(grants, " ") + ")"
	}
	return []Finding{{
		What: fmt.Sprintf("publication %s lacks captured tables %s and walrelay cannot add them on start: role %s does not own %s "+
			"(ALTER PUBLICATION ... ADD TABLE needs the owner of the publication and of every table it adds, or a superuser)",
			pub.Name, strings.Join(missing, ", "), user, strings.Join(lacks, ", ")),
		Fix: fix,
	}}, nil
}
