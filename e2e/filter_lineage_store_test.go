package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestLineageWithoutDataDir (checkpoint.store: postgres keeps the column
// lineage): walrelay streams m1 and m2 under a glob rule that masks email
// and stops; its data directory is lost (a container, a standby taking
// over) and m1's email is renamed while it is stopped. The restarted
// process, seeded from the checkpoint store, halts on m1's new name
// instead of publishing it in plain text (m2 keeps email, so the start-up
// check passes and only the lineage tells).
func TestLineageWithoutDataDir(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, maskRenameDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("mask_salt", "e2e-salt")
	cfg.set("checkpoint.store", "postgres")
	useRules(t, cfg, maskRules(`"public.m*"`, "email"))
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic("public.m2"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', 10); INSERT INTO m2 VALUES (1, 'b@x')")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d after SIGTERM, want 0", code)
	}
	if err := os.RemoveAll(cfg.DataDir); err != nil {
		t.Fatal(err)
	}

	mustExec(t, conn, "ALTER TABLE m1 RENAME COLUMN email TO email_address; INSERT INTO m1 VALUES (2, 'secret-mail@x', 20)")
	r = spawnRelay(t, cfg)
	col.poll(3 * time.Second)
	noPlainSecret(t, col, "secret-mail@x")
	requireMaskHalt(t, r, 1)
	col.poll(time.Second)
	noPlainSecret(t, col, "secret-mail@x")
}

// TestLineageRulesChangedWhileStopped: rows of m1 written while walrelay is
// stopped, then its masked email renamed, and the rules changed to mask
// only the new name: the restarted process replays the rows from before
// the rename (old name) from the checkpoint. Reconciled with the catalog
// at start, the lineage knows email as the column's former name, so the
// replayed row halts, saying to add the old name too, instead of going out
// unmasked; with both names, every row goes out masked.
func TestLineageRulesChangedWhileStopped(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, maskRenameDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("mask_salt", "e2e-salt")
	useRules(t, cfg, maskRules("public.m1", "email"))
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', 10)")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d after SIGTERM, want 0", code)
	}

	mustExec(t, conn, `INSERT INTO m1 VALUES (2, 'old2@x', 10);
		ALTER TABLE m1 RENAME COLUMN email TO email_address;
		INSERT INTO m1 VALUES (3, 'new3@x', 10)`)
	useRules(t, cfg, maskRules("public.m1", "email_address"))
	r = spawnRelay(t, cfg)
	col.poll(3 * time.Second)
	noPlainSecret(t, col, "old2@x")
	requireReplayHalt(t, r)
	col.poll(time.Second)
	noPlainSecret(t, col, "old2@x")

	useRules(t, cfg, maskRules("public.m1", "email_address, email"))
	r.sighup()
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	for _, s := range []string{"old2@x", "new3@x"} {
		noPlainSecret(t, col, s)
	}
}

// TestLineageSwapWhileStopped: email (masked) and phone of m1 swap names
// while walrelay is stopped (email to tmp, phone to email, tmp to phone),
// with a row written before the swap and one updated after it, whose
// phone column then holds the old email. Reconciled with the catalog at
// start (the table never dropped a column: its saved columns pair with the
// catalog's by position), the lineage knows phone as the former email, so
// the restarted process halts, naming both, instead of publishing the old
// emails under phone in plain text.
func TestLineageSwapWhileStopped(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE m1 (id int PRIMARY KEY, email text, phone text);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("mask_salt", "e2e-salt")
	useRules(t, cfg, maskRules("public.m1", "email"))
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', '555-1')")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d after SIGTERM, want 0", code)
	}

	mustExec(t, conn, `INSERT INTO m1 VALUES (2, 'old2@x', '555-2');
		ALTER TABLE m1 RENAME COLUMN email TO tmp;
		ALTER TABLE m1 RENAME COLUMN phone TO email;
		ALTER TABLE m1 RENAME COLUMN tmp TO phone;
		UPDATE m1 SET email = '555-1' WHERE id = 1`)
	r = spawnRelay(t, cfg)
	col.poll(3 * time.Second)
	for _, s := range []string{"old2@x", "a@x"} {
		noPlainSecret(t, col, s)
	}
	halt := r.waitLogCount(maskHalt, 1, 30*time.Second)
	requireWords(t, "halt error", fmt.Sprint(halt["error"]), "rules[1]", "public.m1", `"email"`, `"phone"`)
}
