package e2e

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// checkDDL is a captured table with a primary key and one without any key.
const checkDDL = `
CREATE TABLE chk_good (id bigint PRIMARY KEY, v text);
CREATE TABLE chk_nopk (a int, b text);
`

// runCheck writes cfg's config file and runs `walrelay check` on it.
func runCheck(t *testing.T, cfg *relayConfig) (stdout string, code int) {
	t.Helper()
	cfg.writeFile()
	out, errOut, code := runWalrelay(t, 90*time.Second, "check", "--config", cfg.path)
	t.Logf("walrelay check (exit %d):\n%s%s", code, out, errOut)
	return out + errOut, code
}

// failLine matches a reported problem and the fix on the line below it.
var failLine = regexp.MustCompile(`(?m)^FAIL\s+(.*)\n\s+fix:\s+(.*)$`)

// requireProblem fails unless out reports a problem whose text contains
// what and whose fix contains every one of fix.
func requireProblem(t *testing.T, out, what string, fix ...string) {
	t.Helper()
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		ok := strings.Contains(m[1], what)
		for _, f := range fix {
			ok = ok && strings.Contains(m[2], f)
		}
		if ok {
			return
		}
	}
	t.Errorf("walrelay check did not report %q with a fix containing %q; output:\n%s", what, fix, out)
}

// TestResilienceCheck: `walrelay check` reports each problem of the
// PostgreSQL setup on its own FAIL line with the SQL or setting that fixes
// it and exits 1 (README); on a good setup it reports only ok lines, creates
// no topic (its probe is validate-only) and exits 0.
func TestResilienceCheck(t *testing.T) {
	t.Parallel()
	t.Run("good setup", func(t *testing.T) {
		t.Parallel()
		dsn := newDatabase(t)
		mustExec(t, connect(t, dsn), checkDDL)
		brokers := kafkaBrokers(t)
		cfg := newRelayConfig(t, dsn, brokers, "public.chk_good")
		out, code := runCheck(t, cfg)
		if code != 0 || strings.Contains(out, "FAIL") {
			t.Errorf("check on a good setup: exit %d, want 0 and no FAIL line", code)
		}
		requireWords(t, "check output", out, "ok    wal_level = logical", "table public.chk_good: primary key",
			"replication connection accepted", "may create topics", "walrelay can stream with this configuration.")
		if tps := newCollector(t, brokers).topicsWithPrefix(cfg.TopicPrefix); len(tps) != 0 {
			t.Errorf("check created topics %v; its topic probe must be validate-only", tps)
		}
	})
	t.Run("wal_level replica", func(t *testing.T) {
		t.Parallel()
		pg := testenv.PrivatePG(t)
		if err := pg.Devenv().SetConfig("wal_level", "replica"); err != nil {
			t.Fatal(err)
		}
		if err := pg.Devenv().Restart("fast"); err != nil {
			t.Fatal(err)
		}
		dsn := pg.NewDatabase(t)
		mustExec(t, connect(t, dsn), checkDDL)
		cfg := newRelayConfig(t, dsn, kafkaBrokers(t), "public.chk_good")
		out, code := runCheck(t, cfg)
		if code != 1 {
			t.Errorf("check on wal_level=replica exited %d, want 1", code)
		}
		requireProblem(t, out, "wal_level = replica", "ALTER SYSTEM SET wal_level = logical", "restart")
	})
	t.Run("role without replication", func(t *testing.T) {
		t.Parallel()
		pg := testenv.PG(t)
		dsn := pg.NewDatabase(t)
		conn := connect(t, dsn)
		mustExec(t, conn, checkDDL)
		role := "chk_norepl_" + randomSuffix()
		mustExec(t, conn, "CREATE ROLE "+role+" LOGIN")
		t.Cleanup(func() { testenv.ExecDSN(t, pg.DSN(), "DROP ROLE IF EXISTS "+role) })
		u, err := url.Parse(dsn)
		if err != nil || u.Scheme == "" {
			t.Fatalf("DSN %q is not a URL (%v): cannot switch its user", dsn, err)
		}
		u.User = url.User(role)
		cfg := newRelayConfig(t, u.String(), kafkaBrokers(t), "public.chk_good")
		out, code := runCheck(t, cfg)
		if code != 1 {
			t.Errorf("check with a role without REPLICATION exited %d, want 1", code)
		}
		requireProblem(t, out, "role "+role+" lacks the REPLICATION attribute", "ALTER ROLE", role, "REPLICATION;")
	})
	t.Run("table without primary key", func(t *testing.T) {
		t.Parallel()
		dsn := newDatabase(t)
		mustExec(t, connect(t, dsn), checkDDL)
		cfg := newRelayConfig(t, dsn, kafkaBrokers(t), "public.chk_good", "public.chk_nopk")
		out, code := runCheck(t, cfg)
		if code != 1 {
			t.Errorf("check with a captured table without a primary key exited %d, want 1", code)
		}
		requireProblem(t, out, "table public.chk_nopk has no primary key",
			`ALTER TABLE "public"."chk_nopk" ADD PRIMARY KEY`, `ALTER TABLE "public"."chk_nopk" REPLICA IDENTITY FULL;`)
		if strings.Contains(out, "FAIL  table public.chk_good") {
			t.Errorf("check reports a problem with chk_good, which has a primary key")
		}
	})
}
