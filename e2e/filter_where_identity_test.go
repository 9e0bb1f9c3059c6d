package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestWhereIdentityWarned: walrelay run warns, at start and again on
// SIGHUP, about a rule whose where reads a column that a delete's old row
// lacks under the default replica identity (README's example: such deletes
// are dropped silently), naming the rule's line, table, column and fixes.
func TestWhereIdentityWarned(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, "CREATE TABLE public.wi (id int PRIMARY KEY, amount int);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, "rules:\n  - tables: [public.e2e_marker]\n  - tables: [public.wi]\n    where: \"row.amount > 100\"\n")
	r := startRelay(t, cfg)
	const warning = `rules.yaml:4:12: rules[1].where reads row.amount, which the old row of a delete of public.wi does not carry`
	waitWarnings := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); strings.Count(r.output(), warning) < n; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("walrelay logged %q fewer than %d times; log tail:\n%s", warning, n, cfg.logTail(30))
			}
		}
	}
	waitWarnings(1)
	if out := r.output(); !strings.Contains(out, `REPLICA IDENTITY FULL; or leave delete out of operations`) {
		t.Errorf("the warning has no fix:\n%s", out)
	}
	r.sighup()
	r.waitLog("SIGHUP: rules file loaded; it applies from the next transaction", time.Minute)
	waitWarnings(2)
}
