package replication

import (
	"context"
	"fmt"
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

// checkPublicationAdd is the finding for an existing managed publication
// (not FOR ALL TABLES under rules: see checkPublicationReplace) that
// walrelay alters on start: ALTER PUBLICATION ... ADD TABLE for the
// captured tables it lacks, ALTER PUBLICATION ... SET
// (publish_via_partition_root = true) when it publishes, or is to publish,
// a partitioned table without it (PostgreSQL 13+; PublishesPartitioned, as
// run decides), and, under rules, ALTER PUBLICATION ... DROP TABLE for the
// tables it lists that the rules do not capture (droppedMembers). PostgreSQL
// refuses them ("must be owner of publication", "must be owner of table")
// unless the role owns the publication and every table it adds (not those
// it drops), so check fails here, with the ALTER PUBLICATIONs to run as
// the owner, in run's order, instead of run failing at start. As for a
// missing publication (checkPublicationOwner), letting the role act as the
// owners is offered too, unless an owner is a superuser. nil when the role
// may run them, or there is nothing to alter.
func checkPublicationAdd(ctx context.Context, db *pgx.Conn, o CheckOptions, pub Publication, version int) ([]Finding, error) {
	if !o.Managed {
		return nil, nil
	}
	var missing []string
	var err error
	if !pub.AllTables && len(o.Tables) > 0 {
		if missing, err = MissingMembers(ctx, db, pub, o.Tables, version); err != nil {
			return nil, err
		}
	}
	setRoot := false
	if version >= ViaRootVersion && !pub.ViaRoot {
		if setRoot, err = PublishesPartitioned(ctx, db, pub, missing, version); err != nil {
			return nil, err
		}
	}
	drop, err := droppedMembers(ctx, db, o, pub) // check_publication_drop.go
	if err != nil {
		return nil, err
	}
	if len(missing) == 0 && !setRoot && len(drop) == 0 {
		return nil, nil
	}
	ow, err := readPubOwner(ctx, db, pub)
	if err != nil || ow.super {
		return nil, err
	}
	names, owners, ownerSuper, err := notOwned(ctx, db, missing)
	if err != nil || ow.owns && len(names) == 0 {
		return nil, err
	}
	lacks, owners, ownerSuper := ow.lacks(names, owners, ownerSuper)
	name := pgx.Identifier{pub.Name}.Sanitize()
	var stmts, needs []string
	var what, does []string
	if len(missing) > 0 {
		what = append(what, "captured tables "+strings.Join(missing, ", "))
		does = append(does, "add them")
	}
	if setRoot {
		stmts = append(stmts, "ALTER PUBLICATION "+name+" SET (publish_via_partition_root = true);")
		what = append(what, "publish_via_partition_root (it publishes a partitioned table)")
		does = append(does, "set it")
		needs = append(needs, "ALTER PUBLICATION ... SET needs the owner of the publication")
	}
	if len(missing) > 0 {
		stmts = append(stmts, "ALTER PUBLICATION "+name+" ADD TABLE "+quoteTables(missing)+";")
		needs = append(needs, "ALTER PUBLICATION ... ADD TABLE needs the owner of the publication and of every table it adds")
	}
	var state []string
	if len(what) > 0 {
		state = append(state, "lacks "+strings.Join(what, " and "))
	}
	alt := ""
	if len(drop) > 0 {
		state = append(state, "holds tables the rules do not capture ("+strings.Join(drop, ", ")+")")
		does = append(does, dropVerb(len(does) > 0))
		stmts = append(stmts, dropStatement(pub.Name, drop))
		needs = append(needs, "ALTER PUBLICATION ... DROP TABLE needs the owner of the publication")
		if len(what) == 0 {
			alt = " (or set publication.manage: false to use it as it is)"
		}
	}
	return []Finding{{
		What: fmt.Sprintf("publication %s %s and walrelay cannot %s on start: role %s does not own %s (%s, or a superuser)",
			pub.Name, strings.Join(state, " and "), strings.Join(does, " and "), ow.user, strings.Join(lacks, ", "), strings.Join(needs, "; ")),
		Fix: "as the owner: " + strings.Join(stmts, " ") + actAsOwner(owners, ownerSuper, ow.user) + alt,
	}}, nil
}

// actAsOwner is the alternative a fix offers: letting user act as owners
// (GRANT owner TO user); "" when one of them is a superuser.
func actAsOwner(owners []string, ownerSuper bool, user string) string {
	if ownerSuper || len(owners) == 0 {
		return ""
	}
	grants := make([]string, len(owners))
	for i, ow := range owners {
		grants[i] = fmt.Sprintf("GRANT %s TO %s;", pgx.Identifier{ow}.Sanitize(), pgx.Identifier{user}.Sanitize())
	}
	return " (or let this role act as the owner: " + strings.Join(grants, " ") + ")"
}
