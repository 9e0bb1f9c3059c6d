package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fitDDL is the audit's table (columns id, v text, n int), one row of it
// with n NULL, and the marker table.
const fitDDL = `
CREATE TABLE small (id int PRIMARY KEY, v text, n int);
INSERT INTO small VALUES (1, 'a', 1), (2, 'b', NULL);
` + markerDDL

// fitRules captures the marker table and public.small where the expression
// holds: the small rule is rules[1], its where on line 5.
func fitRules(where string) string {
	return "default: drop\nrules:\n  - tables: [public.e2e_marker]\n  - tables: [public.small]\n    where: " +
		quoteYAMLString(where) + "\n"
}

func quoteYAMLString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// exitError returns what a process that failed printed from its last
// "walrelay: " line on (an error may span lines).
func exitError(out string) string {
	if i := strings.LastIndex(out, "\nwalrelay: "); i >= 0 {
		return out[i+1:]
	}
	return errorLine(out)
}

// smallKeys returns the keys of the records on public.small's topic, sorted, after
// a marker has been published behind every earlier change.
func smallKeys(t *testing.T, cfg *relayConfig, col *collector) string {
	t.Helper()
	var keys []string
	for _, r := range col.recs {
		if r.Topic == cfg.topic("public.small") && !r.Tombstone {
			keys = append(keys, r.Key)
		}
	}
	slices.Sort(keys) // the topic's partitions are read in any order
	return strings.Join(keys, " ")
}

// TestWhereFitCheck (audit D3, D5): `walrelay check` compiles each where
// expression against the column types of every table its rule names and
// fails, with the rule's file:line:column, the table and a fix, on a column
// the table lacks, a comparison of incompatible types and a non-boolean
// result; good expressions, and a rule that an earlier unconditional rule
// keeps from ever seeing a table, pass.
func TestWhereFitCheck(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	mustExec(t, connect(t, dsn), fitDDL+`CREATE TABLE other (id int PRIMARY KEY, w text);
CREATE SCHEMA walrelay;
CREATE TABLE walrelay.checkpoint (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), catchup jsonb);`)
	brokers := kafkaBrokers(t)
	cases := []struct {
		where, what string
		fix         []string
	}{
		{"row.nosuch > 2", `:5:12: rules[1].where: column "nosuch" does not exist in public.small (columns: id, v, n)`,
			[]string{"fix the column name", `get(row, "nosuch")`}},
		{"row.v > 5", `:5:19: rules[1].where does not type-check against public.small: invalid operation: > (mismatched types string and int) (v is text: string in expressions)`,
			[]string{"compare"}},
		{"row.n + 1", `:5:12: rules[1].where does not type-check against public.small: expected bool, but got int`,
			[]string{"true or false"}},
	}
	for _, c := range cases {
		t.Run(c.where, func(t *testing.T) {
			cfg := newRelayConfig(t, dsn, brokers)
			rules := useRules(t, cfg, fitRules(c.where))
			out, code := runCheck(t, cfg)
			if code != 1 {
				t.Errorf("check exit %d for where %q, want 1", code, c.where)
			}
			requireProblem(t, out, rules+c.what, c.fix...)
		})
	}
	// walrelay's own checkpoint table (checkpoint.store postgres) is never
	// captured, so a glob's where is not checked against it either.
	t.Run("good expressions", func(t *testing.T) {
		cfg := newRelayConfig(t, dsn, brokers)
		cfg.set("checkpoint.store", "postgres")
		useRules(t, cfg, `default: drop
rules:
  - tables: [public.e2e_marker]
  - tables: [public.other]
    drop: true
  - tables: ["*.*"]
    where: "row.n > 2 && row.v != nil && (row.n ?? 0) % 2 == 0 || get(row, 'w') == 'x'"
`)
		out, code := runCheck(t, cfg)
		if code != 0 || strings.Contains(out, "FAIL") {
			t.Errorf("check exit %d on rules whose where fits every table it can see, want 0 and no FAIL:\n%s", code, out)
		}
		r := startRelay(t, cfg)
		if code, _ := r.term(); code != 0 {
			t.Errorf("walrelay run with these rules exited %d after SIGTERM, want 0", code)
		}
	})
}

// TestWhereFitRunRefused (audit D3, D5): `walrelay run` refuses a rules file
// whose where expression does not fit a table it names, before it creates a
// slot or reads a row: it exits 1 with the file, line, rule, table and the
// fix, and does not tell the operator to send SIGHUP to a process that is
// gone.
func TestWhereFitRunRefused(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, fitDDL)
	for _, c := range []struct{ where, what string }{
		{"row.nosuch > 2", `column "nosuch" does not exist in public.small`},
		{"row.v > 5", "mismatched types string and int"},
		{"row.n + 1", "expected bool, but got int"},
	} {
		t.Run(c.where, func(t *testing.T) {
			cfg := newRelayConfig(t, dsn, brokers)
			rules := useRules(t, cfg, fitRules(c.where))
			r := spawnRelay(t, cfg)
			if code := r.waitExit(60 * time.Second); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			line := exitError(r.output())
			t.Logf("walrelay exited with: %s", line)
			requireWords(t, "error line", line, rules+":5:", "rules[1]", "public.small", c.what, "fix")
			if strings.Contains(line, "SIGHUP") {
				t.Errorf("the process exited, yet its error says to send SIGHUP: %s", line)
			}
			if r.findLog("streaming") != nil {
				t.Errorf("walrelay streamed with rules it should have refused")
			}
		})
	}
}

// TestWhereFitSighup (audit D3): SIGHUP refuses a rules file whose where
// names a column the table lacks, or compares incompatible types, and says
// why; the rules in force keep deciding, so the rows the refused file would
// have dropped are published.
func TestWhereFitSighup(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, fitDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, fitRules("row.n > 2"))
	r := startRelay(t, cfg)
	const refused = "SIGHUP: rules file not reloaded, the previous rules stay in force"
	for i, bad := range []struct{ where, what string }{
		{"row.nosuch > 2", `column "nosuch" does not exist in public.small`},
		{"row.v > 5", "mismatched types string and int"},
	} {
		useRules(t, cfg, fitRules(bad.where))
		r.sighup()
		line := r.waitLogCount(refused, i+1, 30*time.Second)
		t.Logf("refused with: %v", line["error"])
		requireWords(t, "refusal", fmt.Sprint(line["error"]), "rules[1]", "public.small", bad.what)
	}
	if r.findLog("SIGHUP: rules file loaded; it applies from the next transaction") != nil {
		t.Errorf("a refused rules file was loaded")
	}
	mustExec(t, conn, "INSERT INTO small VALUES (5, 'e', 5), (6, 'f', 6), (7, 'g', 1)")
	col := newCollector(t, brokers, cfg.topic("public.small"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if got := smallKeys(t, cfg, col); got != "id=5 id=6" {
		t.Errorf("public.small records %q, want the rows the rules in force keep (id=5 id=6)", got)
	}
}

// TestWhereFitColumnDropped: a column the rule's where reads is dropped
// while walrelay streams. The next change of the table is not dropped
// silently: the pipeline halts with an error naming the rule, the table and
// the column, the checkpoint stays before the change, and once the rules
// file is fixed the change is published.
func TestWhereFitColumnDropped(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, fitDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, fitRules("row.n > 2"))
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.small"), cfg.topic(markerTable))
	mustExec(t, conn, "INSERT INTO small VALUES (3, 'c', 3)")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	mustExec(t, conn, "ALTER TABLE small DROP COLUMN n")
	mustExec(t, conn, "INSERT INTO small VALUES (8, 'h')")
	halt := r.waitLog("pipeline halted; restarting from the checkpoint", time.Minute)
	t.Logf("halted with: %v", halt["error"])
	requireWords(t, "halt error", fmt.Sprint(halt["error"]), "rules[1]", "public.small", `column "n" does not exist`, "SIGHUP")
	held := heldCommit(t, fmt.Sprint(halt["error"]))
	if lsn, ok, err := cfg.checkpoint(); err != nil || ok && lsn >= held {
		t.Errorf("checkpoint %s (err %v) moved past the undecided change (committed at %s)", lsn, err, held)
	}

	useRules(t, cfg, fitRules("row.id > 2"))
	r.sighup()
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	if got := smallKeys(t, cfg, col); got != "id=3 id=8" {
		t.Errorf("public.small records %q, want id=3 id=8", got)
	}
}

// TestWhereRuntimeErrorPhases (audit D5): an expression that fits the
// column types but fails on a value (NULL + 1) halts the pipeline. During
// the first initial snapshot the process exits, and its error says to fix
// the file and start walrelay again, not to send SIGHUP; while streaming it
// restarts from the checkpoint, and its error says that SIGHUP (or the next
// restart) loads the fixed file, which then decides the change.
func TestWhereRuntimeErrorPhases(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, fitDDL)
	t.Run("snapshot", func(t *testing.T) {
		cfg := newRelayConfig(t, dsn, brokers)
		useRules(t, cfg, fitRules("row.n + 1 > 2"))
		r := spawnRelay(t, cfg)
		if code := r.waitExit(60 * time.Second); code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
		line := exitError(r.output())
		t.Logf("walrelay exited with: %s", line)
		requireWords(t, "error line", line, "rules[1]", "public.small", "start walrelay again")
		if strings.Contains(line, "SIGHUP") {
			t.Errorf("the process exited, yet its error says to send SIGHUP: %s", line)
		}
	})
	t.Run("streaming", func(t *testing.T) {
		cfg := newRelayConfig(t, dsn, brokers)
		cfg.set("snapshot.mode", "never")
		useRules(t, cfg, fitRules("row.n + 1 > 2"))
		r := startRelay(t, cfg)
		mustExec(t, conn, "INSERT INTO small VALUES (9, 'i', NULL)")
		halt := r.waitLog("pipeline halted; restarting from the checkpoint", time.Minute)
		t.Logf("halted with: %v", halt["error"])
		requireWords(t, "halt error", fmt.Sprint(halt["error"]), "rules[1]", "public.small", "send SIGHUP")
		useRules(t, cfg, fitRules("(row.n ?? 0) + 1 > 2"))
		r.sighup()
		mustExec(t, conn, "INSERT INTO small VALUES (10, 'j', 5)")
		col := newCollector(t, brokers, cfg.topic("public.small"), cfg.topic(markerTable))
		catchUp(t, cfg, conn, col, col, 2*time.Minute)
		if got := smallKeys(t, cfg, col); got != "id=10" {
			t.Errorf("public.small records %q, want id=10 (id=9 decided by the fixed rule: dropped)", got)
		}
	})
}

// TestWhereFitNewTable: a table created while walrelay streams matches a
// glob rule whose where reads a column the new table lacks. The publication
// poller logs the problem when the table appears; the table's first change
// halts the pipeline (it is not dropped); once the rules file reads the
// column with get() and SIGHUP loads it, the change is published.
func TestWhereFitNewTable(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL+"CREATE TABLE gl_a (id int PRIMARY KEY, n int);")
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("publication.poll_interval", "500ms")
	rules := "default: drop\nrules:\n  - tables: [public.e2e_marker]\n  - tables: [\"public.gl_*\"]\n    where: WHERE\n"
	useRules(t, cfg, strings.Replace(rules, "WHERE", "'row.n > 2'", 1))
	r := startRelay(t, cfg)
	mustExec(t, conn, "CREATE TABLE gl_b (id int PRIMARY KEY, v text)")
	// The poller's line (JSON escapes the column's quotes).
	const problem = `does not exist in public.gl_b (columns: id, v) (fix the column name, or narrow the rule's tables; ` +
		`get(row, \"n\") reads a column a table may lack as nil); the pipeline halts at the first change of this table`
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(r.output(), problem) {
		if time.Now().After(deadline) {
			t.Fatalf("walrelay did not report %q within a minute", problem)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitPublication(t, conn, cfg.Publication, []string{"public.e2e_marker", "public.gl_a", "public.gl_b"}, 30*time.Second)
	r.waitLogCount("streaming", 2, time.Minute) // the new table's catch-up restart
	// The catch-up of the (empty) new table done, so that the row below
	// comes only from the stream: a catch-up still reading it when the
	// pipeline halts would read it again after the restart (a read event
	// besides the create, at least once).
	r.waitLog("incremental snapshot completed", time.Minute)
	mustExec(t, conn, "INSERT INTO gl_a VALUES (1, 5)")
	mustExec(t, conn, "INSERT INTO gl_b VALUES (2, 'x')")
	halt := r.waitLog("pipeline halted; restarting from the checkpoint", time.Minute)
	t.Logf("halted with: %v", halt["error"])
	requireWords(t, "halt error", fmt.Sprint(halt["error"]), "rules[1]", "public.gl_b", `column "n" does not exist`)

	useRules(t, cfg, strings.Replace(rules, "WHERE", `'(get(row, "n") ?? 3) > 2'`, 1))
	r.sighup()
	col := newCollector(t, brokers, cfg.topic("public.gl_a"), cfg.topic("public.gl_b"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	var got []string
	for _, rec := range col.recs {
		if rec.Topic != cfg.topic(markerTable) {
			got = append(got, rec.Topic[len(cfg.TopicPrefix)+1:]+" "+rec.Key)
		}
	}
	if strings.Join(got, ", ") != "public.gl_a id=1, public.gl_b id=2" {
		t.Errorf("records %q, want public.gl_a id=1 and public.gl_b id=2", got)
	}
}
