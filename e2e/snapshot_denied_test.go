package e2e

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/pipeline"
)

const deniedDDL = `
CREATE TABLE den_a (id int PRIMARY KEY);
CREATE TABLE den_b (id int PRIMARY KEY);
INSERT INTO den_a VALUES (1);
INSERT INTO den_b VALUES (1);
`

// deniedRelay returns a config for a relay whose role (LOGIN REPLICATION)
// may read den_a only, over an unmanaged publication that holds pubTables
// and rules that capture den_a and den_b, and a connection as the owner.
func deniedRelay(t *testing.T, pubTables string) *relayConfig {
	t.Helper()
	pg := testenv.PG(t)
	dsn := pg.NewDatabase(t)
	conn := connect(t, dsn)
	mustExec(t, conn, deniedDDL)
	mustExec(t, conn, "CREATE PUBLICATION walrelay FOR TABLE "+pubTables+" WITH (publish_via_partition_root = true)")
	role := "den_" + randomSuffix()
	cfg := newRelayConfig(t, roleDSN(t, pg, dsn, role, "LOGIN REPLICATION"), kafkaBrokers(t))
	mustExec(t, conn, "GRANT SELECT ON den_a TO "+role)
	t.Cleanup(func() { mustExec(t, conn, "REVOKE SELECT ON den_a FROM "+role) }) // before DROP ROLE
	cfg.set("publication.manage", false)
	useRules(t, cfg, "rules:\n  - tables: [public.den_a, public.den_b]\n")
	return cfg
}

// TestRulesRunNeedsSelectBeforeSlot: with a rules file deciding the
// captured tables, a role that may not read one of them is refused before
// walrelay creates its slot, with the GRANT (the audit's run created the
// slot and failed on LOCK TABLE, leaving the slot to hold WAL).
func TestRulesRunNeedsSelectBeforeSlot(t *testing.T) {
	t.Parallel()
	cfg := deniedRelay(t, "den_a, den_b")
	r := spawnRelay(t, cfg)
	if code := r.waitExit(60 * time.Second); code != 1 {
		t.Errorf("walrelay run as a role that may not read den_b exited %d, want 1", code)
	}
	requireWords(t, "run's error", errorLine(r.output()), "may not read captured", "den_b", "GRANT SELECT ON")
	if slotExists(t, connect(t, testenv.PG(t).DSN()), cfg.Slot) {
		t.Errorf("slot %s exists after the refused start, want none:\n%s", cfg.Slot, r.output())
	}
	if r.countLog("created replication slot") != 0 {
		t.Errorf("walrelay created its slot before it refused the role:\n%s", r.output())
	}
}

// TestSnapshotDeniedDropsNewSlot: a first snapshot that fails for lack of
// a privilege the start could not foresee (den_b is in the unmanaged
// publication, so the snapshot reads it, though the rules do not capture
// it) drops the slot walrelay just created for it, and says so: nothing was
// confirmed from it, and left behind it holds WAL.
func TestSnapshotDeniedDropsNewSlot(t *testing.T) {
	t.Parallel()
	cfg := deniedRelay(t, "den_a, den_b")
	useRules(t, cfg, "rules:\n  - tables: [public.den_a]\n")
	r := spawnRelay(t, cfg)
	if code := r.waitExit(60 * time.Second); code != 1 {
		t.Errorf("walrelay run whose snapshot may not read den_b exited %d, want 1", code)
	}
	requireWords(t, "run's error", errorLine(r.output()), "den_b", "GRANT SELECT ON")
	if r.countLog("created replication slot") != 1 || r.countLog(pipeline.SlotDroppedDeniedMessage) != 1 {
		t.Errorf("want the slot created, then dropped with %q:\n%s", pipeline.SlotDroppedDeniedMessage, r.output())
	}
	if slotExists(t, connect(t, testenv.PG(t).DSN()), cfg.Slot) {
		t.Errorf("slot %s still exists after the failed first snapshot:\n%s", cfg.Slot, r.output())
	}
}

// TestManagedRulesRunNeedsSelectBeforeSlot: the same with
// publication.manage (the default), where walrelay creates the publication
// from the rules: a role that owns den_b but has revoked its own SELECT is
// refused before the publication and the slot are created.
func TestManagedRulesRunNeedsSelectBeforeSlot(t *testing.T) {
	t.Parallel()
	pg := testenv.PG(t)
	dsn := pg.NewDatabase(t)
	conn := connect(t, dsn)
	mustExec(t, conn, deniedDDL)
	role := "den_" + randomSuffix()
	cfg := newRelayConfig(t, roleDSN(t, pg, dsn, role, "LOGIN REPLICATION"), kafkaBrokers(t))
	t.Cleanup(func() { mustExec(t, conn, "REASSIGN OWNED BY "+role+" TO CURRENT_USER; DROP OWNED BY "+role) }) // before DROP ROLE
	mustExec(t, conn, "GRANT CREATE ON DATABASE "+cfgDatabase(t, conn)+" TO "+role)
	mustExec(t, conn, "ALTER TABLE den_a OWNER TO "+role+"; ALTER TABLE den_b OWNER TO "+role+
		"; REVOKE SELECT ON den_b FROM "+role)
	useRules(t, cfg, "rules:\n  - tables: [public.den_a, public.den_b]\n")
	r := spawnRelay(t, cfg)
	if code := r.waitExit(60 * time.Second); code != 1 {
		t.Errorf("walrelay run as a role that may not read den_b exited %d, want 1", code)
	}
	requireWords(t, "run's error", errorLine(r.output()), "may not read captured", "den_b", "GRANT SELECT ON")
	if slotExists(t, connect(t, pg.DSN()), cfg.Slot) || r.countLog("created replication slot") != 0 {
		t.Errorf("slot %s was created before the role was refused:\n%s", cfg.Slot, r.output())
	}
	if got := publicationTables(t, conn, cfg.Publication); len(got) != 0 {
		t.Errorf("publication holds %v after the refused start, want no publication", got)
	}
}

// cfgDatabase is the quoted name of conn's database.
func cfgDatabase(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	return pgx.Identifier{conn.Config().Database}.Sanitize()
}
