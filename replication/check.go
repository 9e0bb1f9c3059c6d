package replication

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/pgident"
)

// Finding is one result of a prerequisite check: OK, or a problem with the
// exact SQL or setting that fixes it.
type Finding struct {
	OK   bool
	What string
	Fix  string
	// Warn marks a problem that does not stop walrelay from streaming
	// (check prints it as a warning and does not fail): tables mixed in one
	// topic, a table of a capture-all set that is never captured.
	Warn bool
}

// CheckOptions names what `walrelay check` verifies.
type CheckOptions struct {
	Slot        string
	Publication string
	Tables      []string // the capture set; empty = every user table
	// NoTables says the capture set is empty (rules that match no existing
	// table): the per-table checks are skipped instead of covering every
	// table, and `check` reports the empty set itself.
	NoTables bool
	// Managed says walrelay manages the publication (no rules file, or
	// publication.manage true): it sets publish_via_partition_root itself on
	// start, so a publication without it is reported as fixed on start
	// rather than as a problem.
	Managed bool
	// Rules says a rules file decides the capture set: a managed FOR ALL
	// TABLES publication is then replaced on start by one that lists the
	// captured tables (checkPublicationReplace).
	Rules bool
	// Renamed are tables of postgres.tables that no longer exist under
	// their names but whose OID, saved by walrelay's last start, is a
	// table under another name now, keyed by the listed name: check says
	// so, as `walrelay run` does at start.
	Renamed map[string]RenamedTable
	// Standby is postgres.standby: a slot another client holds is a
	// warning (a standby waits for it), not a problem.
	Standby bool
}

// RenamedTable is the table a listed name's OID names now.
type RenamedTable struct {
	Name string // schema.table now
	OID  uint32
}

// CheckPrerequisites runs the Postgres side of `walrelay check`: wal_level,
// the role's replication privilege, slot and WAL sender headroom, the slot's
// health, the publication, and each captured table's replica identity.
func CheckPrerequisites(ctx context.Context, db *pgx.Conn, o CheckOptions) ([]Finding, error) {
	var out []Finding
	checks := []func(context.Context, *pgx.Conn, CheckOptions) ([]Finding, error){
		checkWalLevel, checkRole, checkHeadroom, checkSlot, checkPublication, checkTables,
	}
	for _, c := range checks {
		f, err := c(ctx, db, o)
		if err != nil {
			return out, err
		}
		out = append(out, f...)
	}
	return out, nil
}

// GapFix is the way past a gap: what `walrelay run` says when it refuses
// to start over one (invariant 6).
const GapFix = "re-snapshot the captured tables with snapshot.mode: when_needed, or start with --allow-gap to accept the gap"

// Gap reports whether resuming from the stored checkpoint would skip
// changes: the slot named name is missing, or was advanced past checkpoint
// (by pg_replication_slot_advance or another consumer). what explains the
// gap in the words `walrelay run` refuses it with; GapFix is the fix. An
// invalidated slot is not a gap here (checkSlot and run report it on its
// own). Callers pass a checkpoint only when one is stored.
func Gap(slot SlotInfo, name string, checkpoint event.LSN) (what string, gap bool) {
	switch {
	case !slot.Exists:
		return fmt.Sprintf("replication slot %q is missing but a checkpoint at %s exists: "+
			"the changes after it are no longer available and were lost to walrelay", name, checkpoint), true
	case slot.Invalidated():
		return "", false
	case slot.ConfirmedFlush > checkpoint:
		return fmt.Sprintf("replication slot %q is at %s, ahead of the stored checkpoint %s: "+
			"the changes in between were consumed by someone else and are lost to walrelay",
			name, slot.ConfirmedFlush, checkpoint), true
	}
	return "", false
}

func checkWalLevel(ctx context.Context, db *pgx.Conn, _ CheckOptions) ([]Finding, error) {
	var level string
	if err := db.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return nil, fmt.Errorf("reading wal_level: %w", err)
	}
	if level == "logical" {
		return []Finding{{OK: true, What: "wal_level = logical"}}, nil
	}
	return []Finding{{What: fmt.Sprintf("wal_level = %s; logical decoding needs logical", level),
		Fix: "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL"}}, nil
}

func checkRole(ctx context.Context, db *pgx.Conn, _ CheckOptions) ([]Finding, error) {
	var user string
	var repl, super bool
	err := db.QueryRow(ctx, "SELECT current_user::text, rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user").
		Scan(&user, &repl, &super)
	if err != nil {
		return nil, fmt.Errorf("reading the role's privileges: %w", err)
	}
	if repl || super {
		return []Finding{{OK: true, What: fmt.Sprintf("role %s may replicate", user)}}, nil
	}
	return []Finding{{What: fmt.Sprintf("role %s lacks the REPLICATION attribute", user),
		Fix: fmt.Sprintf("ALTER ROLE %s REPLICATION;", pgx.Identifier{user}.Sanitize())}}, nil
}

func checkHeadroom(ctx context.Context, db *pgx.Conn, o CheckOptions) ([]Finding, error) {
	var maxSlots, usedSlots, maxSenders, usedSenders int
	var haveSlot bool
	err := db.QueryRow(ctx, `SELECT current_setting('max_replication_slots')::int,
		(SELECT count(*) FROM pg_replication_slots),
		current_setting('max_wal_senders')::int,
		(SELECT count(*) FROM pg_stat_replication),
		EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, o.Slot).
		Scan(&maxSlots, &usedSlots, &maxSenders, &usedSenders, &haveSlot)
	if err != nil {
		return nil, fmt.Errorf("reading replication limits: %w", err)
	}
	var out []Finding
	if haveSlot || usedSlots < maxSlots {
		out = append(out, Finding{OK: true, What: fmt.Sprintf("replication slots: %d of %d used", usedSlots, maxSlots)})
	} else {
		out = append(out, Finding{What: fmt.Sprintf("no free replication slot: %d of %d used", usedSlots, maxSlots),
			Fix: fmt.Sprintf("ALTER SYSTEM SET max_replication_slots = %d; then restart, or drop an unused slot", maxSlots+1)})
	}
	if usedSenders < maxSenders {
		out = append(out, Finding{OK: true, What: fmt.Sprintf("WAL senders: %d of %d used", usedSenders, maxSenders)})
	} else {
		out = append(out, Finding{What: fmt.Sprintf("no free WAL sender: %d of %d used", usedSenders, maxSenders),
			Fix: fmt.Sprintf("ALTER SYSTEM SET max_wal_senders = %d; then restart", maxSenders+1)})
	}
	return out, nil
}

func checkPublication(ctx context.Context, db *pgx.Conn, o CheckOptions) ([]Finding, error) {
	var super, canCreate bool
	err := db.QueryRow(ctx, `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
		has_database_privilege(current_database(), 'CREATE')`).Scan(&super, &canCreate)
	if err != nil {
		return nil, fmt.Errorf("reading the role's privileges: %w", err)
	}
	version, err := ServerVersion(ctx, db)
	if err != nil {
		return nil, err
	}
	pub, err := ReadPublication(ctx, db, o.Publication)
	if err != nil {
		return nil, err
	}
	with := ""
	if version >= ViaRootVersion {
		with = ViaRootOption
	}
	name := pgx.Identifier{o.Publication}.Sanitize()
	switch {
	case pub.Exists:
		f := Finding{OK: true, What: fmt.Sprintf("publication %s exists", o.Publication)}
		if o.Managed && o.Rules && pub.AllTables && !super {
			rep, err := checkPublicationReplace(ctx, db, o, pub, with) // check_publication_replace.go
			return append([]Finding{f}, rep...), err
		}
		add, err := checkPublicationAdd(ctx, db, o, pub, version) // check_publication_owner.go; DROP TABLE too (check_publication_drop.go)
		if err != nil || len(add) > 0 {
			return append([]Finding{f}, add...), err // add says what run cannot set, publish_via_partition_root too
		}
		viaRoot, err := checkViaRoot(ctx, db, o, pub, version)
		return append([]Finding{f}, viaRoot...), err
	case len(o.Tables) == 0 && !super:
		return []Finding{{What: fmt.Sprintf("publication %s is missing and FOR ALL TABLES needs a superuser", o.Publication),
			Fix: fmt.Sprintf("as a superuser: CREATE PUBLICATION %s FOR ALL TABLES%s; (or list postgres.tables)", name, with)}}, nil
	case !super && !canCreate:
		return []Finding{{What: fmt.Sprintf("publication %s is missing and this role may not create it", o.Publication),
			Fix: fmt.Sprintf("as the tables' owner: CREATE PUBLICATION %s FOR TABLE %s%s;", name, quoteTables(o.Tables), with)}}, nil
	case !super:
		if fs, err := checkPublicationOwner(ctx, db, o, with); err != nil || len(fs) > 0 {
			return fs, err
		}
	}
	return []Finding{{OK: true, What: fmt.Sprintf("publication %s will be created on start", o.Publication)}}, nil
}

// checkViaRoot reports an existing publication that publishes partitioned
// tables without publish_via_partition_root (PostgreSQL 13+): their changes
// arrive under each partition's name, so rules or postgres.tables naming
// only the partitioned table publish none of them. walrelay fixes a publication it
// manages on start; an unmanaged one is a problem with its fix.
func checkViaRoot(ctx context.Context, db *pgx.Conn, o CheckOptions, pub Publication, version int) ([]Finding, error) {
	if version < ViaRootVersion || pub.ViaRoot {
		return nil, nil
	}
	parts, err := PublishedPartitioned(ctx, db, pub, version)
	if err != nil || len(parts) == 0 {
		return nil, err
	}
	list := strings.Join(parts, ", ")
	if o.Managed {
		return []Finding{{OK: true, What: fmt.Sprintf("publication %s lacks publish_via_partition_root "+
			"(partitioned tables %s); walrelay sets it on start", o.Publication, list)}}, nil
	}
	return []Finding{{What: fmt.Sprintf("publication %s publishes partitioned tables (%s) without publish_via_partition_root: "+
		"their changes arrive under each partition's name, so rules or postgres.tables naming only the partitioned table publish none of them", o.Publication, list),
		Fix: fmt.Sprintf("ALTER PUBLICATION %s SET (publish_via_partition_root = true);", pgx.Identifier{o.Publication}.Sanitize())}}, nil
}

// PublishedPartitioned lists the partitioned tables pub publishes: listed
// ones, and the top-level ones of its schemas (PostgreSQL 15+) or of the
// database (FOR ALL TABLES).
func PublishedPartitioned(ctx context.Context, db *pgx.Conn, pub Publication, version int) ([]string, error) {
	sql := `SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'p' AND (c.oid IN (SELECT prrelid FROM pg_publication_rel WHERE prpubid = $1)
			OR NOT c.relispartition AND $2 AND n.nspname NOT IN ('pg_catalog', 'information_schema')`
	if version >= schemaPubVersion {
		sql += `
			OR NOT c.relispartition AND c.relnamespace IN (SELECT pnnspid FROM pg_publication_namespace WHERE pnpubid = $1)`
	}
	rows, err := db.Query(ctx, sql+") ORDER BY 1, 2", pub.OID, pub.AllTables)
	if err != nil {
		return nil, fmt.Errorf("listing the partitioned tables of publication %q: %w", pub.Name, err)
	}
	out, err := collectNames(rows)
	if err != nil {
		return nil, fmt.Errorf("listing the partitioned tables of publication %q: %w", pub.Name, err)
	}
	return out, nil
}

// tableIdentity is one captured table's replica identity situation.
type tableIdentity struct {
	name     string
	ident    string
	hasPK    bool
	exists   bool
	identIdx bool
	kind     string // relationKind: "" for a table logical decoding publishes
	listed   bool   // named in postgres.tables (not found by listing every table)
}

func checkTables(ctx context.Context, db *pgx.Conn, o CheckOptions) ([]Finding, error) {
	if o.NoTables {
		return nil, nil
	}
	tables, err := capturedTables(ctx, db, o.Tables)
	if err != nil {
		return nil, err
	}
	var out []Finding
	okTables := map[string][]string{} // by okKind
	for _, t := range tables {
		if kind := okKind(t); kind != "" {
			okTables[kind] = append(okTables[kind], t.name)
		}
	}
	for _, t := range tables {
		if r, ok := o.Renamed[t.name]; ok && !t.exists {
			out = append(out, renamedFinding(t.name, r))
			continue
		}
		kind := okKind(t)
		names := okTables[kind]
		switch {
		case kind == "" || len(names) <= okListMax:
			out = append(out, tableFinding(t))
		case names[0] == t.name: // one line for them all, where the first was
			out = append(out, Finding{OK: true, What: fmt.Sprintf("%d tables: %s (%s)", len(names), kind, SampleNames(names, 3))})
		}
	}
	return out, nil
}

// okListMax is how many tables of one kind that need nothing check lists
// one line each; more share one line (2,000 tables printed 2,000 lines).
const okListMax = 10

// SampleNames returns the first n of names, then "… and N more" when
// there are more, for a line that must stay short.
func SampleNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, … and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// okKind is how walrelay keys t's changes when t needs nothing (its
// finding is OK), else "".
func okKind(t tableIdentity) string {
	switch {
	case !t.exists || t.kind != "":
		return ""
	case t.ident == "f":
		return "REPLICA IDENTITY FULL"
	case t.ident == "i" && t.identIdx:
		return "REPLICA IDENTITY USING INDEX"
	case t.ident == "d" && t.hasPK:
		return "primary key"
	}
	return ""
}

// renamedFinding is the finding of listed, a table of postgres.tables
// renamed or moved to r: `walrelay run` refuses to start until
// postgres.tables names r.
func renamedFinding(listed string, r RenamedTable) Finding {
	return Finding{What: fmt.Sprintf("%s was renamed or moved to %s (same table, OID %d): set postgres.tables to %s",
		listed, r.Name, r.OID, r.Name),
		Fix: fmt.Sprintf("in postgres.tables, replace %s with %s (walrelay run refuses to start until then; "+
			"its changes under the new name are not lost meanwhile)", listed, r.Name)}
}

const identityQuery = `SELECT c.relreplident::text, c.relkind::text, c.relpersistence::text,
	EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
	EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2`

// capturedTables reads the identity of the named tables, or of every user
// table when names is empty.
func capturedTables(ctx context.Context, db *pgx.Conn, names []string) ([]tableIdentity, error) {
	listed := len(names) > 0
	if !listed {
		rows, err := db.Query(ctx, `SELECT n.nspname::text, c.relname::text FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
			AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'walrelay') AND n.nspname NOT LIKE 'pg_toast%'
			ORDER BY 1, 2`)
		if err != nil {
			return nil, fmt.Errorf("listing tables: %w", err)
		}
		if names, err = collectNames(rows); err != nil {
			return nil, fmt.Errorf("listing tables: %w", err)
		}
	}
	out := make([]tableIdentity, 0, len(names))
	for _, name := range names {
		t := tableIdentity{name: name, listed: listed}
		schema, table, _ := pgident.Cut(name)
		var kind, persistence string
		err := db.QueryRow(ctx, identityQuery, schema, table).Scan(&t.ident, &kind, &persistence, &t.hasPK, &t.identIdx)
		if err == nil {
			t.exists, t.kind = true, relationKind(kind, persistence)
		} else if err != pgx.ErrNoRows {
			return nil, fmt.Errorf("reading table %s: %w", name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func tableFinding(t tableIdentity) Finding {
	q := quoteTables([]string{t.name})
	switch {
	case !t.exists:
		return Finding{What: fmt.Sprintf("table %s does not exist", t.name), Fix: "create it, or remove it from postgres.tables"}
	case t.kind != "" && t.listed:
		return Finding{What: fmt.Sprintf("%s is %s: it cannot be captured", t.name, t.kind), Fix: uncapturableFix(t.name, t.kind)}
	case t.kind != "": // every table is captured: this one is left out
		return Finding{Warn: true, What: fmt.Sprintf("table %s is %s: logical decoding skips it, so its changes are not captured", t.name, t.kind),
			Fix: fmt.Sprintf("ALTER TABLE %s SET LOGGED; to capture it", q)}
	case okKind(t) != "":
		return Finding{OK: true, What: fmt.Sprintf("table %s: %s", t.name, okKind(t))}
	case t.ident == "n":
		return Finding{What: fmt.Sprintf("table %s has REPLICA IDENTITY NOTHING: its updates and deletes fail once published", t.name),
			Fix: fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY DEFAULT; (with a primary key) or REPLICA IDENTITY FULL;", q)}
	}
	return Finding{What: fmt.Sprintf("table %s has no primary key or replica identity: its updates and deletes fail once published, and its events have no key", t.name),
		Fix: fmt.Sprintf("ALTER TABLE %s ADD PRIMARY KEY (...); or ALTER TABLE %s REPLICA IDENTITY FULL;", q, q)}
}
