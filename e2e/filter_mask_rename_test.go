package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

// maskRenameDDL is audit D3's table m1 (email masked) and, for the glob
// rule, m2, which keeps a column named email.
const maskRenameDDL = `
CREATE TABLE m1 (id int PRIMARY KEY, email text, v int);
CREATE TABLE m2 (id int PRIMARY KEY, email text);
` + markerDDL

// maskRules captures the marker table and the tables pattern with mask
// masked: the masked rule is rules[1].
func maskRules(tables, mask string) string {
	return "default: drop\nrules:\n  - tables: [public.e2e_marker]\n  - tables: [" + tables + "]\n    columns: {mask: [" + mask + "]}\n"
}

const maskHalt = "pipeline halted; restarting from the checkpoint"

// maskSaltHash is PostgreSQL's hash of the mask salt and v, as walrelay
// masks a text value.
func maskSaltHash(t *testing.T, conn pgxQuerier, v string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var h string
	if err := conn.QueryRow(ctx, "SELECT encode(sha256(convert_to('e2e-salt' || $1, 'UTF8')), 'hex')", v).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// noPlainSecret fails the test if any record on col carries secret as is.
func noPlainSecret(t *testing.T, col *collector, secret string) {
	t.Helper()
	for _, r := range col.recs {
		if strings.Contains(string(r.Value), secret) {
			t.Errorf("%s %s published %q unmasked: %s", r.Topic, r.Key, secret, r.Value)
		}
	}
}

// requireMaskHalt waits for the n-th halt and checks that its error names
// the rule, the table, the old and new column names and the fix.
func requireMaskHalt(t *testing.T, r *relay, n int) (held pglogrepl.LSN) {
	t.Helper()
	halt := r.waitLogCount(maskHalt, n, time.Minute)
	msg := fmt.Sprint(halt["error"])
	t.Logf("halt %d: %s", n, msg)
	requireWords(t, "halt error", msg, "rules[1]", "public.m1", `masked column "email" was renamed to "email_address"`,
		`update columns.mask of rules[1] to mask "email_address"`, "SIGHUP")
	return heldCommit(t, msg)
}

// heldEvent finds the event ID in a halt's "encoding change <ID>" error.
var heldEvent = regexp.MustCompile(`encoding change ([0-9A-F]{16})-[0-9A-F]{8}`)

// heldCommit returns the commit LSN of the change a halt's error names
// (its event ID begins with it): the checkpoint must stay below it. Other
// databases of the shared server write WAL meanwhile, which an idle
// walrelay may confirm, so a position read before the write is no bound.
func heldCommit(t *testing.T, haltErr string) pglogrepl.LSN {
	t.Helper()
	m := heldEvent.FindStringSubmatch(haltErr)
	if m == nil {
		t.Fatalf("no event ID in the halt error %q", haltErr)
	}
	lsn, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pglogrepl.LSN(lsn)
}

// TestMaskedColumnRenamed (audit D3): with email masked in public.m1,
// ALTER TABLE m1 RENAME COLUMN email TO email_address while walrelay
// streams halts the pipeline at the next change of m1 (it used to publish
// email_address in plain text), naming the rule, the table, both names and
// the fix; the checkpoint stays before the change and every restart halts
// again. Once columns.mask names the new column and SIGHUP loads the file,
// the change is published masked. A restarted process, which sees the new
// name only, refuses the old file at start: no table of the rule has
// email.
func TestMaskedColumnRenamed(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, maskRenameDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("mask_salt", "e2e-salt")
	rules := useRules(t, cfg, maskRules("public.m1", "email"))
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', 10)")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	mustExec(t, conn, "ALTER TABLE m1 RENAME COLUMN email TO email_address")
	mustExec(t, conn, "INSERT INTO m1 VALUES (2, 'secret1@x', 10)")
	requireMaskHalt(t, r, 1)
	held := requireMaskHalt(t, r, 2) // the restarted session halts again
	if lsn, ok, err := cfg.checkpoint(); err != nil || ok && lsn >= held {
		t.Errorf("checkpoint %s (err %v) moved past the held change (committed at %s)", lsn, err, held)
	}
	col.poll(2 * time.Second)
	noPlainSecret(t, col, "secret1@x")

	useRules(t, cfg, maskRules("public.m1", "email_address"))
	r.sighup()
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	noPlainSecret(t, col, "secret1@x")
	var got []string
	for _, rec := range col.recs {
		if rec.Topic == cfg.topic("public.m1") && !rec.Tombstone {
			got = append(got, fmt.Sprintf("%s %v %v", rec.Key, rec.Env.After["email"], rec.Env.After["email_address"]))
		}
	}
	want := []string{"id=1 " + maskSaltHash(t, conn, "a@x") + " <nil>", "id=2 <nil> " + maskSaltHash(t, conn, "secret1@x")}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("public.m1 records %q, want %q", got, want)
	}

	// A new process sees only the new name: the start-up check refuses
	// the old file (no table of the rule has email).
	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d after SIGTERM, want 0", code)
	}
	useRules(t, cfg, maskRules("public.m1", "email"))
	r = spawnRelay(t, cfg)
	if code := r.waitExit(60 * time.Second); code != 1 {
		t.Errorf("restart with the old rules: exit code %d, want 1", code)
	}
	line := exitError(r.output())
	t.Logf("restart refused with: %s", line)
	requireWords(t, "start-up error", line, rules+":", "rules[1]", `masked column "email" exists in none of the tables the rule names (public.m1)`)
}

// TestMaskedColumnRenamedGlob: the same rename under a glob rule whose
// other table keeps a column named email. The restarted session reloads
// the file, which passes the start-up check (public.m2 has email); it must
// remember the rename and halt again rather than publish email_address in
// plain text.
func TestMaskedColumnRenamedGlob(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, maskRenameDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("mask_salt", "e2e-salt")
	useRules(t, cfg, maskRules(`"public.m*"`, "email"))
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic("public.m2"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', 10)")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	mustExec(t, conn, "ALTER TABLE m1 RENAME COLUMN email TO email_address")
	mustExec(t, conn, "INSERT INTO m1 VALUES (2, 'secret2@x', 10)")
	requireMaskHalt(t, r, 1)
	requireMaskHalt(t, r, 2)
	col.poll(2 * time.Second)
	noPlainSecret(t, col, "secret2@x")

	useRules(t, cfg, maskRules(`"public.m*"`, "email, email_address"))
	r.sighup()
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	noPlainSecret(t, col, "secret2@x")
	n := 0
	for _, rec := range col.recs {
		if rec.Topic == cfg.topic("public.m1") && rec.Key == "id=2" && rec.Env != nil &&
			rec.Env.After["email_address"] == maskSaltHash(t, conn, "secret2@x") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("id=2 published masked %d times, want once", n)
	}
}
