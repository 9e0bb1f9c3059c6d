package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// TestCheckWithRules: with a rules file, `walrelay check` lists per rule
// (file:line) the tables it captures and checks the replica identity of
// exactly those tables; rules that capture no table say so, with a fix, and
// do not check every other table instead.
func TestCheckWithRules(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	mustExec(t, connect(t, dsn), checkDDL)
	brokers := kafkaBrokers(t)

	t.Run("captures chk_nopk", func(t *testing.T) {
		cfg := newRelayConfig(t, dsn, brokers)
		rules := useRules(t, cfg, "default: drop\nrules:\n  - tables: [\"public.chk_no*\"]\n")
		out, code := runCheck(t, cfg)
		if code == 0 {
			t.Errorf("check exit 0 with a captured table without a key, want 1")
		}
		requireWords(t, "check output", out, "rules[0] ("+rules+":3:5) captures public.chk_nopk")
		requireProblem(t, out, "table public.chk_nopk has no primary key", "REPLICA IDENTITY")
		if strings.Contains(out, "public.chk_good") {
			t.Errorf("check looked at public.chk_good, which the rules do not capture:\n%s", out)
		}
	})
	t.Run("captures nothing", func(t *testing.T) {
		cfg := newRelayConfig(t, dsn, brokers)
		useRules(t, cfg, "default: drop\nrules:\n  - tables: [\"public.no_such_*\"]\n")
		out, code := runCheck(t, cfg)
		if code == 0 {
			t.Errorf("check exit 0 with rules that capture nothing, want 1")
		}
		requireProblem(t, out, "rules capture no existing table", "tables:")
		// a warning: run takes such a rule (bb26554 made check agree)
		if !regexp.MustCompile(`(?m)^warn\s+.*rules\[0\] names no existing table.*\n\s+fix:.*glob rules also pick up tables created later`).MatchString(out) {
			t.Errorf("walrelay check did not warn that rules[0] names no existing table; output:\n%s", out)
		}
		for _, m := range failLine.FindAllStringSubmatch(out, -1) {
			if strings.Contains(m[1], m[2]) {
				t.Errorf("a FAIL line repeats its fix: %q", m[1])
			}
		}
		if strings.Contains(out, "chk_nopk") || strings.Contains(out, "chk_good") {
			t.Errorf("rules capture nothing, yet check looked at other tables:\n%s", out)
		}
	})
	t.Run("partitioned table", func(t *testing.T) {
		pdsn := newDatabase(t)
		mustExec(t, connect(t, pdsn), checkPartitionedDDL)
		cfg := newRelayConfig(t, pdsn, brokers)
		rules := useRules(t, cfg, "default: drop\nrules:\n  - tables: [public.chk_pt]\n")
		out, code := runCheck(t, cfg)
		if code != 0 {
			t.Errorf("check exit %d with rules naming a partitioned table and a managed publication, want 0", code)
		}
		requireWords(t, "check output", out, "rules[0] ("+rules+":3:5) captures public.chk_pt",
			"table public.chk_pt: primary key", "lacks publish_via_partition_root", "walrelay sets it on start")
		if strings.Contains(out, "names no existing table") || strings.Contains(out, "capture no existing table") {
			t.Errorf("check does not see the partitioned table public.chk_pt:\n%s", out)
		}
		// An unmanaged publication is not fixed on start: that is a problem.
		cfg.set("publication.manage", false)
		out, code = runCheck(t, cfg)
		if code != 1 {
			t.Errorf("check exit %d with an unmanaged publication lacking publish_via_partition_root, want 1", code)
		}
		requireProblem(t, out, "publishes partitioned tables (public.chk_pt) without publish_via_partition_root",
			`ALTER PUBLICATION "walrelay" SET (publish_via_partition_root = true);`)
	})
}

// checkPartitionedDDL is a partitioned table with a primary key, and a
// publication that holds it without publish_via_partition_root.
const checkPartitionedDDL = `
CREATE TABLE chk_pt (id bigint, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE chk_pt_a PARTITION OF chk_pt FOR VALUES FROM (0) TO (100);
CREATE PUBLICATION walrelay FOR TABLE chk_pt;
`
