package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestMaskedColumnRenamedReplay: a masked column renamed in the middle of a
// transaction whose earlier row (old name) the restarted session replays.
// After the halt, the rules the halt asks for are accepted (the check knows
// email as a former name of email_address from the column lineage), and
// every row of m1 goes out masked: "both names" masks the new name and
// keeps the old at once; "new name first" masks only the new name, so the
// replayed row (old name) halts, saying it is from before the rename and
// to add its name, and then the old name is added. Row 2 goes out before
// the first halt and again after the fix (at least once): the same record.
func TestMaskedColumnRenamedReplay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		steps []string // columns.mask after the first halt, in order; each but the last halts on the replayed row 2
	}{
		{"both names", []string{"email, email_address"}},
		{"new name first", []string{"email_address", "email_address, email"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn, brokers, conn := newTestDB(t, maskRenameDDL)
			cfg := newRelayConfig(t, dsn, brokers)
			cfg.set("mask_salt", "e2e-salt")
			useRules(t, cfg, maskRules("public.m1", "email"))
			r := startRelay(t, cfg)
			col := newCollector(t, brokers, cfg.topic("public.m1"), cfg.topic(markerTable))
			mustExec(t, conn, "INSERT INTO m1 VALUES (1, 'a@x', 10)")
			catchUp(t, cfg, conn, col, col, 2*time.Minute)

			mustExec(t, conn, `BEGIN; INSERT INTO m1 VALUES (2, 'old2@x', 10);
				ALTER TABLE m1 RENAME COLUMN email TO email_address;
				INSERT INTO m1 VALUES (3, 'new3@x', 10); COMMIT`)
			requireMaskHalt(t, r, 1)

			for i, mask := range c.steps {
				useRules(t, cfg, maskRules("public.m1", mask))
				r.sighup()
				if i < len(c.steps)-1 {
					requireReplayHalt(t, r)
				}
			}
			catchUp(t, cfg, conn, col, col, 2*time.Minute)
			for _, s := range []string{"old2@x", "new3@x"} {
				noPlainSecret(t, col, s)
			}
			// Row 2 went out before the halt and again when replayed: at
			// least once, the same record (consumers drop it by ce_id).
			uniq, _, conflicts := dedupe(col.recs)
			if len(conflicts) > 0 {
				t.Errorf("a replayed record differs from the first: %q", conflicts)
			}
			var got []string
			for _, rec := range uniq {
				if rec.Topic == cfg.topic("public.m1") && !rec.Tombstone {
					got = append(got, fmt.Sprintf("%s %v %v", rec.Key, rec.Env.After["email"], rec.Env.After["email_address"]))
				}
			}
			sort.Strings(got) // keys 1-3 by ID; partitions are read in any order
			want := []string{"id=1 " + maskSaltHash(t, conn, "a@x") + " <nil>", "id=2 " + maskSaltHash(t, conn, "old2@x") + " <nil>",
				"id=3 <nil> " + maskSaltHash(t, conn, "new3@x")}
			if strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Errorf("public.m1 records %q, want %q", got, want)
			}
		})
	}
}

// requireReplayHalt waits for a halt on the replayed row 2 under rules
// that mask email_address only: it says the change is from before the
// rename and to add email, keeping email_address.
func requireReplayHalt(t *testing.T, r *relay) {
	t.Helper()
	const reverse = `masked column "email_address" was named "email" before it was renamed`
	deadline := time.Now().Add(time.Minute)
	for {
		for _, halt := range r.logLines(maskHalt) {
			if msg := fmt.Sprint(halt["error"]); strings.Contains(msg, reverse) {
				t.Logf("replay halt: %s", msg)
				requireWords(t, "replay halt", msg, "rules[1]", "public.m1", "replayed from the checkpoint",
					`update columns.mask of rules[1] to mask "email" too, the column's name before the rename, and keep "email_address"`)
				return
			}
		}
		if r.exited() || time.Now().After(deadline) {
			t.Fatalf("no halt says %q; log tail:\n%s", reverse, r.cfg.logTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
