package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// haltLine matches the pipeline line of `walrelay status` for a pipeline
// that halted: its state, the halt count and the error.
var haltLine = regexp.MustCompile(`(?m)^pipeline\s+(halted .* ago, restarting from the checkpoint|restarting from the checkpoint|streaming again).*\((\d+) halt\(s\) since the process started\): .*Too Large`)

// TestStatusRestartLoop: a row larger than its topic's max.message.bytes
// halts the pipeline within seconds of each start, so no session lives to
// write the periodic (10 s) status report. `walrelay status` must still
// show the running process with the halt's error and that it is
// restarting, with the number of halts, instead of "has not reported yet".
func TestStatusRestartLoop(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE loop_big (id int PRIMARY KEY, t text);")
	cfg := newRelayConfig(t, dsn, brokers, "public.loop_big")
	cfg.set("kafka.topic_config", map[string]string{"max.message.bytes": "20000"})
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO loop_big SELECT 1, string_agg(md5(random()::text), '') FROM generate_series(1, 1300)")
	r.waitLogCount("pipeline halted; restarting from the checkpoint", 2, 60*time.Second)

	stdout, stderr, code := runWalrelay(t, 60*time.Second, "status", "--config", cfg.path)
	out := stdout + stderr
	if code != 0 {
		t.Fatalf("walrelay status exit %d:\n%s", code, out)
	}
	t.Logf("walrelay status:\n%s", out)
	m := haltLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("walrelay status does not show the halt, its error and the restart:\n%s", out)
	}
	if m[2] == "0" || m[2] == "" {
		t.Errorf("halt count %q, want at least 1", m[2])
	}
	if strings.Contains(out, "has not reported yet") || strings.Contains(out, "not current") {
		t.Errorf("walrelay status shows no current report of the running process:\n%s", out)
	}
	r.kill()
}
