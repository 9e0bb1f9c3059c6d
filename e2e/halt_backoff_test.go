package e2e

import (
	"fmt"
	"testing"
	"time"
)

const msgHalted = "pipeline halted; restarting from the checkpoint"

// haltingRelay starts a relay whose where expression fails on a row with n
// NULL (TestWhereRuntimeErrorPhases), writes such a row, and returns once
// the pipeline halted with a backoff of at least minRetry (the backoff
// doubles with each halt), and the fields of that halt line.
func haltingRelay(t *testing.T, minRetry time.Duration) (*relay, *relayConfig, map[string]any) {
	t.Helper()
	dsn, brokers, conn := newTestDB(t, fitDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.set("snapshot.mode", "never")
	useRules(t, cfg, fitRules("row.n + 1 > 2"))
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO small VALUES (9, 'i', NULL)")
	for n := 1; ; n++ {
		halt := r.waitLogCount(msgHalted, n, time.Minute)
		retry, ok := halt["retry_in_seconds"].(float64)
		if !ok {
			t.Fatalf("halt line without retry_in_seconds: %v", halt)
		}
		if time.Duration(retry*float64(time.Second)) >= minRetry {
			return r, cfg, halt
		}
	}
}

// TestHaltBackoffSignals (audit m5, m8): signals that come while a halted
// pipeline waits to restart. SIGTERM ends the process with a "stopped" line
// that says it did not drain (the halted session's row was read and never
// acknowledged; the next start reads it again). SIGHUP is answered at once:
// a rules file that does not load is refused in the log and the wait goes
// on; a fixed one restarts the pipeline now, not when the backoff ends.
func TestHaltBackoffSignals(t *testing.T) {
	t.Parallel()
	t.Run("SIGTERM", func(t *testing.T) {
		t.Parallel()
		r, _, _ := haltingRelay(t, 2*time.Second)
		if code, took := r.term(); code != 0 {
			t.Errorf("exit code %d %s after SIGTERM, want 0", code, took)
		}
		st := r.findLog("stopped")
		if st == nil || st["drained"] != false || st["lsn"] == nil {
			t.Fatalf("stopped line %v after SIGTERM during the backoff, want drained false with the lsn", st)
		}
		requireWords(t, "not_drained", fmt.Sprint(st["not_drained"]), "halted", "sent again")
		requireWords(t, "reason", fmt.Sprint(st["reason"]), "terminated")
	})
	t.Run("SIGHUP", func(t *testing.T) {
		t.Parallel()
		r, cfg, halt := haltingRelay(t, 5*time.Second)
		seen := time.Now()
		retry := time.Duration(halt["retry_in_seconds"].(float64) * float64(time.Second))
		streams := len(r.logLines("streaming"))
		useRules(t, cfg, "default: drop\nrules: [\n")
		r.sighup()
		r.waitLog("SIGHUP: rules file not loaded; the pipeline restarts when the backoff ends, with this file if it is "+
			"fixed by then, else with the rules in force", 2*time.Second)
		if n := len(r.logLines("streaming")); n != streams {
			t.Fatalf("a broken rules file restarted the pipeline (%d streaming lines, want %d)", n, streams)
		}
		useRules(t, cfg, fitRules("(row.n ?? 0) + 1 > 2"))
		r.sighup()
		r.waitLogCount("streaming", streams+1, 3*time.Second)
		if took := time.Since(seen); took >= retry {
			t.Errorf("the pipeline restarted %s after the halt, not before its backoff (%s) ended", took, retry)
		}
		if st := r.findLog("SIGHUP: rules file loaded; restarting the pipeline now with it"); st == nil {
			t.Errorf("the restart on SIGHUP was not logged")
		}
	})
}

// TestStoppedAtWarnLevel (audit m9): with log.level warn the "stopped" line
// is still the last line of a SIGTERM run.
func TestStoppedAtWarnLevel(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	cfg.set("log.level", "warn")
	r := spawnRelay(t, cfg)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if _, ok, _ := cfg.checkpoint(); ok {
			break
		}
		if r.exited() || time.Now().After(deadline) {
			t.Fatalf("walrelay stored no checkpoint within a minute; log tail:\n%s", cfg.logTail(10))
		}
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("exit code %d %s after SIGTERM, want 0", code, took)
	}
	st := r.findLog("stopped")
	if st == nil || st["drained"] != true || st["exit_code"] != 0.0 {
		t.Fatalf("stopped line %v at log.level warn, want it with drained true and exit_code 0; log:\n%s", st, r.output())
	}
}
