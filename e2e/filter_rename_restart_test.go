package e2e

import (
	"fmt"
	"testing"
	"time"
)

// renameRestartDDL: m1 and m2 both have email (masked) and notes
// (excluded) under one glob rule.
const renameRestartDDL = `
CREATE TABLE m1 (id int PRIMARY KEY, email text, notes text, v int);
CREATE TABLE m2 (id int PRIMARY KEY, email text, notes text);
` + markerDDL

// renameRestartRules captures the marker table, and public.m* with email
// masked and notes excluded as rules[1].
const renameRestartRules = "default: drop\nrules:\n  - tables: [public.e2e_marker]\n" +
	"  - tables: [\"public.m*\"]\n    columns: {mask: [email], exclude: [notes]}\n"

// TestRenameWhileStopped (the column lineage kept in data_dir): walrelay
// streams m1 and m2, stops with its checkpoint past m1's last change, and
// while it is stopped a column of m1 is renamed and a row written. The
// restarted process's first relation of m1 carries the new name only, and
// its rules pass the start-up check (m2 keeps the old name), so only the
// saved lineage tells it the column was renamed: it must halt with the
// rule, table, both names and the fix, and publish nothing of the row in
// plain text. Both for a masked column and for an excluded one.
func TestRenameWhileStopped(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, col, to, secret string
		words                 []string
	}{
		{"masked", "email", "email_address", "secret-mail@x", []string{`masked column "email" was renamed to "email_address"`,
			`update columns.mask of rules[1] to mask "email_address"`}},
		{"excluded", "notes", "remarks", "secret-note", []string{`excluded column "notes" was renamed to "remarks", which the rule does not exclude`,
			`update columns.exclude of rules[1] to exclude "remarks"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn, brokers, conn := newTestDB(t, renameRestartDDL)
			cfg := newRelayConfig(t, dsn, brokers)
			cfg.set("mask_salt", "e2e-salt")
			useRules(t, cfg, renameRestartRules)
			r := startRelay(t, cfg)
			col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic("public.m2"), cfg.topic(markerTable))
			mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', 'n1', 10)")
			mustExec(t, conn, "INSERT INTO m2 VALUES (1, 'b@x', 'n2')")
			catchUp(t, cfg, conn, col, col, 2*time.Minute)
			if code, _ := r.term(); code != 0 {
				t.Fatalf("walrelay exit code %d after SIGTERM, want 0", code)
			}

			mustExec(t, conn, fmt.Sprintf("ALTER TABLE m1 RENAME COLUMN %s TO %s", c.col, c.to))
			mustExec(t, conn, fmt.Sprintf("INSERT INTO m1 (id, %s, v) VALUES (2, '%s', 20)", c.to, c.secret))
			mustExec(t, conn, "INSERT INTO m2 VALUES (2, 'c@x', 'n3')")
			r = spawnRelay(t, cfg)
			col.poll(5 * time.Second)
			noPlainSecret(t, col, c.secret)
			for n := 1; n <= 2; n++ { // the restarted session halts again
				halt := r.waitLogCount(maskHalt, n, time.Minute)
				msg := fmt.Sprint(halt["error"])
				t.Logf("halt %d: %s", n, msg)
				requireWords(t, "halt error", msg, append([]string{"rules[1]", "public.m1", "SIGHUP"}, c.words...)...)
			}
			col.poll(2 * time.Second)
			noPlainSecret(t, col, c.secret)
		})
	}
}
