package e2e

import (
	"fmt"
	"testing"
	"time"
)

// tableRenameDDL: cust has email, masked by rules[0] under its name only.
const tableRenameDDL = `
CREATE TABLE cust (id int PRIMARY KEY, email text);
CREATE SCHEMA s9;
` + markerDDL

// tableRenameRules masks email of the tables listed; every other table is
// captured as is (default: capture).
func tableRenameRules(tables string) string {
	return "default: capture\nrules:\n  - tables: [" + tables + "]\n    columns: {mask: [email]}\n"
}

// TestTableRenamedLeavesMaskRule (audit auditc, finding 2): rules match
// tables by name, so ALTER TABLE cust RENAME TO customers (or SET SCHEMA)
// while walrelay streams used to move cust's changes to the default and
// publish email in plain text on ...customers, with no log line. The next
// change of the table must halt, naming both names, the rule and the fix,
// every restart again; once the rule names the new name too and SIGHUP
// loads it, the held change is published masked.
func TestTableRenamedLeavesMaskRule(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, ddl, to string }{
		{"rename", "ALTER TABLE cust RENAME TO customers", "public.customers"},
		{"set schema", "ALTER TABLE cust SET SCHEMA s9", "s9.cust"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn, brokers, conn := newTestDB(t, tableRenameDDL)
			cfg := newRelayConfig(t, dsn, brokers)
			cfg.set("mask_salt", "e2e-salt")
			useRules(t, cfg, tableRenameRules("public.cust"))
			r := startRelay(t, cfg)
			col := newCollector(t, brokers, cfg.topic("public.cust"), cfg.topic(c.to), cfg.topic(markerTable))
			mustExec(t, conn, "INSERT INTO cust VALUES (1, 'a@x')")
			catchUp(t, cfg, conn, col, col, 2*time.Minute)

			mustExec(t, conn, c.ddl)
			const secret = "RENAMED_TABLE_SECRET@x"
			mustExec(t, conn, fmt.Sprintf("INSERT INTO %s VALUES (2, '%s')", c.to, secret))
			for n := 1; n <= 2; n++ { // the restarted session halts again
				halt := r.waitLogCount(maskHalt, n, time.Minute)
				msg := fmt.Sprint(halt["error"])
				t.Logf("halt %d: %s", n, msg)
				requireWords(t, "halt error", msg, "rules[0]", "table public.cust was renamed or moved to "+c.to,
					`masked column "email"`, "add "+c.to+" to tables of rules[0] and keep public.cust", "SIGHUP")
			}
			col.poll(2 * time.Second)
			noPlainSecret(t, col, secret)

			useRules(t, cfg, tableRenameRules("public.cust, "+c.to))
			r.sighup()
			catchUp(t, cfg, conn, col, col, 2*time.Minute)
			noPlainSecret(t, col, secret)
			found := false
			for _, rec := range col.recs {
				if rec.Topic == cfg.topic(c.to) && rec.Key == "id=2" && !rec.Tombstone {
					found = fmt.Sprint(rec.Env.After["email"]) == maskSaltHash(t, conn, secret)
				}
			}
			if !found {
				t.Errorf("the held change is not on %s with email masked", cfg.topic(c.to))
			}
		})
	}
}
