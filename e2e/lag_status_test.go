package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/internal/testenv"
)

// statusLagLine matches the lag line of `walrelay status`.
var statusLagLine = regexp.MustCompile(`(?m)^lag\s+(\d+) bytes`)

// noHeartbeatLine matches the end-to-end lag line of a walrelay that
// measures none.
var noHeartbeatLine = regexp.MustCompile(`(?m)^end-to-end lag\s+unknown \(set heartbeat\.interval`)

// walrelayStatus runs `walrelay status` for cfg and returns its output; a
// non-zero exit fails the test.
func walrelayStatus(t *testing.T, cfg *relayConfig) string {
	t.Helper()
	out, errOut, code := runWalrelay(t, 60*time.Second, "status", "--config", cfg.path)
	if code != 0 {
		t.Fatalf("walrelay status exit %d:\n%s%s", code, out, errOut)
	}
	return out + errOut
}

// TestLagBytesBacklog: walrelay_lag_bytes, the progress line's lag_bytes
// and `walrelay status` measure the lag the same way, from the server's
// WAL position: with a backlog of 30 transactions (about 8 MB of WAL)
// written while walrelay was stopped, and a restarted walrelay that
// publishes it slowly (one event in flight at a time), all three show the
// backlog from the start. Before, the gauge and the progress line measured
// only up to what the walsender had sent, a few hundred kB ahead of the
// checkpoint however large the backlog.
func TestLagBytesBacklog(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public.lagb (id int PRIMARY KEY, pad text NOT NULL);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.lagb", markerTable)
	addr := testenv.FreeAddr(t)
	cfg.set("metrics.listen", addr)
	col := newCollector(t, brokers, cfg.topic(markerTable))
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)
	if code, _ := r.term(); code != 0 {
		t.Fatalf("walrelay exit code %d after SIGTERM, want 0", code)
	}
	cp := cfg.mustCheckpoint()
	for i := range 30 {
		mustExec(t, conn, `INSERT INTO public.lagb SELECT g, repeat('x', 200) FROM generate_series($1::int, $1::int + 999) g`, i*1000)
	}
	backlog := float64(currentLSN(t, conn) - cp)
	t.Logf("backlog: %.0f bytes of WAL past the checkpoint %s", backlog, cp)

	cfg.set("limits.max_inflight_events", 1)
	r = startRelay(t, cfg)
	seen := 0.0 // the highest walrelay_lag_bytes while streaming
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if m := scrape(t, "http://"+addr+"/metrics"); m["walrelay_streaming"] == 1 {
			seen = max(seen, m["walrelay_lag_bytes"])
		}
	}
	if seen < backlog/2 {
		t.Errorf("walrelay_lag_bytes at most %.0f while a backlog of %.0f bytes is published, want at least half of it", seen, backlog)
	}

	// `walrelay status` agrees with the gauge read before and after it
	// (the server's position only grows; the checkpoint moves a little).
	const slack = 1 << 20
	before := scrape(t, "http://"+addr+"/metrics")["walrelay_lag_bytes"]
	out := walrelayStatus(t, cfg)
	time.Sleep(2500 * time.Millisecond) // a poll of the server's position after the status
	after := scrape(t, "http://"+addr+"/metrics")["walrelay_lag_bytes"]
	m := statusLagLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no lag line in walrelay status:\n%s", out)
	}
	status, _ := strconv.ParseFloat(m[1], 64)
	if status < before-slack || status > after+slack {
		t.Errorf("walrelay status: lag %.0f bytes; walrelay_lag_bytes was %.0f before and %.0f after it:\n%s", status, before, after, out)
	}

	progress := r.waitLog("progress", 20*time.Second)
	if lag, _ := progress["lag_bytes"].(float64); lag < backlog/2 {
		t.Errorf("progress line: lag_bytes %.0f with a backlog of %.0f bytes, want at least half of it: %v", lag, backlog, progress)
	}
	end, err := pglogrepl.ParseLSN(fmt.Sprint(progress["server_wal_end"]))
	if err != nil || float64(end-cp) < backlog {
		t.Errorf("progress line: server_wal_end %v, want at least the end of the backlog %s", progress["server_wal_end"],
			cp+pglogrepl.LSN(backlog))
	}
}

// TestStatusProcessGone: `walrelay status` says when the process that wrote
// the status file no longer runs. After SIGKILL it names the pid as not
// running and does not show its last end-to-end lag as current; the
// initial snapshot's reason ("no checkpoint is stored") is shown as the
// reason when it started, while a checkpoint is stored. After a restart,
// until the new process reports, the old report is shown as the old
// process's. After a clean stop, the process is not running either.
func TestStatusProcessGone(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	cfg.set("heartbeat.interval", "1s")
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)
	pid1 := strconv.Itoa(r.cmd.Process.Pid)
	waitStatus(t, cfg, "pid "+pid1+",", func(out string) bool { return lagLine.MatchString(out) })

	r.kill()
	out := walrelayStatus(t, cfg)
	t.Logf("after SIGKILL:\n%s", out)
	requireWords(t, "walrelay status after SIGKILL", out, "pid "+pid1+" is not running", "(reason then: no checkpoint is stored)")
	if lagLine.MatchString(out) {
		t.Errorf("walrelay status shows the killed process's end-to-end lag as current:\n%s", out)
	}
	if strings.Contains(out, "done (no checkpoint is stored)") {
		t.Errorf("walrelay status shows the snapshot's reason as the state now, with a checkpoint stored:\n%s", out)
	}

	r = startRelay(t, cfg) // the first report comes 10 s after it streams
	pid2 := strconv.Itoa(r.cmd.Process.Pid)
	out = walrelayStatus(t, cfg)
	if !strings.Contains(out, "pid "+pid2+", running") { // else it reported already, too late to check
		t.Logf("after the restart:\n%s", out)
		requireWords(t, "walrelay status right after the restart", out, "walrelay pid "+pid2+" runs and has not reported yet",
			"the last report is from pid "+pid1+", which is not running")
		if lagLine.MatchString(out) {
			t.Errorf("walrelay status shows the previous process's end-to-end lag as current:\n%s", out)
		}
	}
	waitStatus(t, cfg, "pid "+pid2+",", func(out string) bool { return !strings.Contains(out, "has not reported yet") })
	if code, _ := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d after SIGTERM, want 0", code)
	}
	out = walrelayStatus(t, cfg)
	requireWords(t, "walrelay status after SIGTERM", out, "pid "+pid2+" is not running")
	if lagLine.MatchString(out) {
		t.Errorf("walrelay status shows the stopped process's end-to-end lag as current:\n%s", out)
	}
}

// waitStatus runs `walrelay status` until its output holds want and ok
// accepts it (at most 30 s) and returns that output.
func waitStatus(t *testing.T, cfg *relayConfig, want string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := walrelayStatus(t, cfg)
		if strings.Contains(out, want) && ok(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("walrelay status does not show %q within 30 s:\n%s", want, out)
		}
		time.Sleep(time.Second)
	}
}

// TestHeartbeatScope: heartbeats belong to the walrelay that emitted them.
// Two walrelays stream from one database: A emits a heartbeat every 500 ms
// and publishes them to its heartbeat topic; B emits none and has a
// heartbeat topic. B publishes nothing to it and shows no end-to-end lag;
// A's topic holds only A's own heartbeats, not a hand-written one in the
// format of older releases (a bare timestamp); A shows its end-to-end lag.
// Before, B published A's heartbeats and took its lag from them.
func TestHeartbeatScope(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfgA := newRelayConfig(t, dsn, brokers, markerTable)
	cfgB := newRelayConfig(t, dsn, brokers, markerTable)
	cfgA.Publication, cfgB.Publication = "walrelay_a", "walrelay_b"
	cfgA.set("postgres.publication", cfgA.Publication)
	cfgB.set("postgres.publication", cfgB.Publication)
	hbA, hbB := cfgA.TopicPrefix+".heartbeat", cfgB.TopicPrefix+".heartbeat"
	cfgA.set("heartbeat.interval", "500ms")
	cfgA.set("heartbeat.topic", hbA)
	cfgB.set("heartbeat.topic", hbB)
	startRelay(t, cfgA)
	rB := startRelay(t, cfgB)
	colA := newCollector(t, brokers, cfgA.topic(markerTable), hbA)
	colB := newCollector(t, brokers, cfgB.topic(markerTable), hbB)
	mustExec(t, conn, `SELECT pg_logical_emit_message(false, 'walrelay_heartbeat', now()::text)`) // an older release's
	colA.waitFor(time.Minute, "4 heartbeats in "+hbA, func() bool { return len(heartbeatSlots(t, colA, hbA)) >= 4 })
	catchUp(t, cfgA, conn, colA, colA, time.Minute)
	catchUp(t, cfgB, conn, colB, colB, time.Minute) // B has read past A's heartbeats

	for i, slot := range heartbeatSlots(t, colA, hbA) {
		if slot != cfgA.Slot {
			t.Errorf("heartbeat %d in A's topic is of slot %q, want only A's (%s)", i, slot, cfgA.Slot)
		}
	}
	if n := len(heartbeatSlots(t, colB, hbB)); n != 0 {
		t.Errorf("B, without heartbeats of its own, published %d heartbeats to %s", n, hbB)
	}
	outB := waitStatus(t, cfgB, "pid "+strconv.Itoa(rB.cmd.Process.Pid)+",", func(out string) bool {
		return !strings.Contains(out, "has not reported yet")
	})
	if lagLine.MatchString(outB) || !noHeartbeatLine.MatchString(outB) {
		t.Errorf("B, without heartbeats, shows an end-to-end lag:\n%s", outB)
	}
	waitStatus(t, cfgA, "end-to-end lag", func(out string) bool { return lagLine.MatchString(out) })
}

// heartbeatSlots returns the slot each heartbeat record in topic names, in
// the order read ("" for content that is not a slot's heartbeat).
func heartbeatSlots(t *testing.T, col *collector, topic string) []string {
	t.Helper()
	var slots []string
	for _, r := range col.recs {
		if r.Topic != topic || r.Value == nil {
			continue
		}
		var v struct {
			Message struct {
				Prefix  string `json:"prefix"`
				Content []byte `json:"content"`
			} `json:"message"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil || v.Message.Prefix != "walrelay_heartbeat" {
			t.Fatalf("record %s@%d is not a heartbeat: %s (%v)", r.Topic, r.Offset, r.Value, err)
		}
		var hb struct {
			Slot string `json:"slot"`
		}
		_ = json.Unmarshal(v.Message.Content, &hb)
		slots = append(slots, hb.Slot)
	}
	return slots
}
