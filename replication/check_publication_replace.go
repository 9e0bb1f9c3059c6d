package replication

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pubOwner is what pubOwnerQuery reads of a publication and the role.
type pubOwner struct {
	pub        string
	user       string // current_user
	super      bool   // the role is a superuser
	owns       bool   // the role may act as the publication's owner
	owner      string
	ownerSuper bool
}

// readPubOwner runs pubOwnerQuery for pub.
func readPubOwner(ctx context.Context, db *pgx.Conn, pub Publication) (pubOwner, error) {
	ow := pubOwner{pub: pub.Name}
	err := db.QueryRow(ctx, pubOwnerQuery, pub.OID).Scan(&ow.super, &ow.owns, &ow.owner, &ow.ownerSuper)
	if err == nil {
		err = db.QueryRow(ctx, "SELECT current_user::text").Scan(&ow.user)
	}
	if err != nil {
		return ow, fmt.Errorf("reading the owner of publication %s: %w", pub.Name, err)
	}
	return ow, nil
}

// lacks returns what the role lacks to alter or drop the publication and
// to publish the tables names it does not own (owned by owners): the
// publication first unless the role owns it; owners and ownerSuper then
// include the publication's owner.
func (ow pubOwner) lacks(names, owners []string, ownerSuper bool) ([]string, []string, bool) {
	var out []string
	if !ow.owns {
		out = append(out, "publication "+ow.pub+" (owner "+ow.owner+")")
		if !slices.Contains(owners, ow.owner) {
			owners = append([]string{ow.owner}, owners...)
		}
		ownerSuper = ownerSuper || ow.ownerSuper
	}
	return append(out, names...), owners, ownerSuper
}

// checkPublicationReplace is the finding for an existing FOR ALL TABLES
// publication that walrelay manages under a rules file: on start it
// replaces it with one that lists the captured tables (DROP PUBLICATION
// and CREATE PUBLICATION ... FOR TABLE, in one transaction; pipeline's
// syncPublication). PostgreSQL refuses that unless the role owns the
// publication (DROP), may create in the database and owns every captured
// table (CREATE ... FOR TABLE), or is a superuser, so check fails here,
// with the statements to run as the owner, instead of run failing at
// start. nil when the role may.
func checkPublicationReplace(ctx context.Context, db *pgx.Conn, o CheckOptions, pub Publication, with string) ([]Finding, error) {
	ow, err := readPubOwner(ctx, db, pub)
	if err != nil || ow.super {
		return nil, err
	}
	var canCreate bool
	if err := db.QueryRow(ctx, "SELECT has_database_privilege(current_database(), 'CREATE')").Scan(&canCreate); err != nil {
		return nil, fmt.Errorf("reading the role's privileges: %w", err)
	}
	names, owners, ownerSuper, err := notOwned(ctx, db, o.Tables)
	if err != nil || ow.owns && canCreate && len(names) == 0 {
		return nil, err
	}
	lacks, owners, ownerSuper := ow.lacks(names, owners, ownerSuper)
	if !canCreate {
		lacks = append(lacks, "CREATE on the database")
	}
	name := pgx.Identifier{pub.Name}.Sanitize()
	create := "CREATE PUBLICATION " + name
	if len(o.Tables) > 0 {
		create += " FOR TABLE " + quoteTables(o.Tables)
	}
	return []Finding{{
		What: fmt.Sprintf("publication %s is FOR ALL TABLES, and walrelay, which manages it under the rules, cannot replace it "+
			"on start with one that lists the captured tables: role %s does not own %s (DROP PUBLICATION needs the owner "+
			"of the publication; CREATE PUBLICATION ... FOR TABLE CREATE on the database and the owner of every table; or a superuser)",
			pub.Name, ow.user, strings.Join(lacks, ", ")),
		Fix: fmt.Sprintf("as the owner: BEGIN; DROP PUBLICATION %s; %s%s; COMMIT;%s (or set publication.manage: false to use it as it is)",
			name, create, with, actAsOwner(owners, ownerSuper, ow.user)),
	}}, nil
}
