package e2e

import (
	"context"
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
		cfg := newRelayConfig(t, roleDSN(t, pg, dsn, role, "LOGIN"), kafkaBrokers(t), "public.chk_good")
		out, code := runCheck(t, cfg)
		if code != 1 {
			t.Errorf("check with a role without REPLICATION exited %d, want 1", code)
		}
		requireProblem(t, out, "role "+role+" lacks the REPLICATION attribute", "ALTER ROLE", role, "REPLICATION;")
		// walrelay run refuses the same role with the same fix (the owner
		// created the publication and granted SELECT, so the replication
		// connection is what fails).
		mustExec(t, conn, "CREATE PUBLICATION walrelay FOR TABLE chk_good WITH (publish_via_partition_root = true)")
		mustExec(t, conn, "GRANT SELECT ON chk_good TO "+role)
		t.Cleanup(func() { mustExec(t, conn, "REVOKE SELECT ON chk_good FROM "+role) }) // before DROP ROLE
		r := spawnRelay(t, cfg)
		if code := r.waitExit(60 * time.Second); code != 1 {
			t.Errorf("walrelay run with a role without REPLICATION exited %d, want 1", code)
		}
		requireWords(t, "run's error", errorLine(r.output()), role, "lacks the REPLICATION attribute", `ALTER ROLE "`+role+`" REPLICATION;`)
	})
	t.Run("checkpoint store the role cannot create", func(t *testing.T) {
		t.Parallel()
		pg := testenv.PG(t)
		dsn := newDatabase(t)
		mustExec(t, connect(t, dsn), checkDDL)
		role := "chk_nocreate_" + randomSuffix()
		cfg := newRelayConfig(t, roleDSN(t, pg, dsn, role, "LOGIN REPLICATION"), kafkaBrokers(t), "public.chk_good")
		cfg.set("checkpoint.store", "postgres")
		out, code := runCheck(t, cfg)
		if code != 1 {
			t.Errorf("check with a postgres checkpoint store the role cannot create exited %d, want 1", code)
		}
		requireProblem(t, out, "checkpoint store postgres: walrelay.checkpoint is missing and role "+role+" may not create it",
			"GRANT CREATE ON DATABASE", `"`+role+`";`)
		var created bool // check only reads: it creates no schema
		if err := connect(t, dsn).QueryRow(context.Background(), "SELECT to_regnamespace('walrelay') IS NOT NULL").Scan(&created); err != nil || created {
			t.Errorf("schema walrelay exists after walrelay check: %v (err %v)", created, err)
		}
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

// failFor returns the problem and fix of the FAIL line whose problem
// contains what.
func failFor(out, what string) (problem, fix string, ok bool) {
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		if strings.Contains(m[1], what) {
			return m[1], m[2], true
		}
	}
	return "", "", false
}

// TestResilienceCheckGap: the gaps `walrelay run` refuses to start over (the
// slot dropped while a checkpoint exists, or advanced past it) are problems
// for `walrelay check` too, explained and fixed in run's words, and
// `walrelay status` says that a missing slot is a gap; with snapshot.mode
// when_needed run re-snapshots instead, so check passes.
func TestResilienceCheckGap(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		make   func(t *testing.T, g *gapSetup)
		what   string
		status string
	}{
		{"slot dropped", func(t *testing.T, g *gapSetup) {
			mustExec(t, g.conn, "SELECT pg_drop_replication_slot($1)", g.cfg.Slot)
		}, "is missing but a checkpoint at", "missing, but a checkpoint at"},
		{"slot advanced", func(t *testing.T, g *gapSetup) {
			mustExec(t, g.conn, "INSERT INTO gap_rows VALUES (2, 'lost in the gap')")
			mustExec(t, g.conn, "SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())", g.cfg.Slot)
		}, "ahead of the stored checkpoint", "ahead of the stored checkpoint"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := newGapSetup(t)
			c.make(t, g)
			out, code := runCheck(t, g.cfg)
			if code != 1 || strings.Contains(out, "walrelay can stream with this configuration") {
				t.Errorf("check over a gap exited %d, want 1 without saying walrelay can stream", code)
			}
			requireProblem(t, out, c.what, "--allow-gap", "snapshot.mode: when_needed")
			problem, fix, _ := failFor(out, c.what)
			if line := g.refused(t); problem == "" || !strings.Contains(line, problem) || !strings.Contains(line, fix) {
				t.Errorf("check's problem %q and fix %q differ from run's refusal %q", problem, fix, line)
			}
			status, errOut, code := runWalrelay(t, 60*time.Second, "status", "--config", g.cfg.path)
			t.Logf("walrelay status (exit %d):\n%s%s", code, status, errOut)
			if code != 0 {
				t.Errorf("walrelay status exited %d: %s", code, errOut)
			}
			requireWords(t, "walrelay status", status, c.status, g.cp.String(), "walrelay run refuses to start", "--allow-gap")
			if strings.Contains(status, "walrelay creates it on start") {
				t.Errorf("walrelay status says walrelay creates the slot, though run refuses the gap:\n%s", status)
			}
			g.cfg.set("snapshot.mode", "when_needed")
			out, code = runCheck(t, g.cfg)
			if code != 0 {
				t.Errorf("check over a gap with snapshot.mode when_needed exited %d, want 0", code)
			}
			requireWords(t, "check output", out, "snapshot.mode when_needed re-snapshots the captured tables on start")
		})
	}
}

// roleDSN creates role WITH attrs (dropped when the test ends) and returns
// dsn with role as its user.
func roleDSN(t *testing.T, pg *testenv.Postgres, dsn, role, attrs string) string {
	t.Helper()
	testenv.ExecDSN(t, pg.DSN(), "CREATE ROLE "+role+" "+attrs)
	t.Cleanup(func() { testenv.ExecDSN(t, pg.DSN(), "DROP ROLE IF EXISTS "+role) })
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("DSN %q is not a URL (%v): cannot switch its user", dsn, err)
	}
	u.User = url.User(role)
	return u.String()
}
