package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// lagLine matches the end-to-end lag line of `walrelay status`.
var lagLine = regexp.MustCompile(`(?m)^end-to-end lag\s+(\d+\.\d+) s \(heartbeat of `)

// commitLagLine matches its commit-to-Kafka line.
var commitLagLine = regexp.MustCompile(`(?m)^commit to Kafka\s+(\d+\.\d+) s for the newest transaction`)

// TestResilienceStatusHeartbeat: with heartbeat.interval 1s, `walrelay
// status` shows the slot active with the relay's walsender pid, the
// confirmed position, retained WAL, the stored checkpoint and, within the
// relay's 10 s status report period, an end-to-end lag in seconds that is
// plausible on an idle server, and the commit-to-Kafka time of the newest
// transaction (the marker's). Heartbeats are not published without a
// heartbeat topic.
func TestResilienceStatusHeartbeat(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	cfg.set("heartbeat.interval", "1s")
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)

	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		stdout, stderr, code := runWalrelay(t, 60*time.Second, "status", "--config", cfg.path)
		out = stdout + stderr
		if code != 0 {
			t.Fatalf("walrelay status exit %d:\n%s", code, out)
		}
		if lagLine.MatchString(out) && commitLagLine.MatchString(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("walrelay status shows no end-to-end lag or no commit-to-Kafka time 30 s after start with heartbeat.interval 1s:\n%s", out)
		}
		time.Sleep(time.Second)
	}
	t.Logf("walrelay status:\n%s", out)
	lag, _ := strconv.ParseFloat(lagLine.FindStringSubmatch(out)[1], 64)
	if lag < 0 || lag > 5 {
		t.Errorf("end-to-end lag %.3f s on an idle server, want between 0 and 5 s", lag)
	}
	if lag, _ := strconv.ParseFloat(commitLagLine.FindStringSubmatch(out)[1], 64); lag < 0 || lag > 5 {
		t.Errorf("commit to Kafka %.3f s for the marker on an idle server, want between 0 and 5 s", lag)
	}
	var pid int
	if err := conn.QueryRow(context.Background(), "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1",
		cfg.Slot).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	requireWords(t, "walrelay status", out, cfg.Slot, "active (pid "+strconv.Itoa(pid)+")",
		"confirmed_flush_lsn", "retained WAL", "stored checkpoint", "events published")
	cp := cfg.mustCheckpoint()
	if m := regexp.MustCompile(`(?m)^stored checkpoint\s+(\S+)`).FindStringSubmatch(out); m == nil {
		t.Errorf("no stored checkpoint line")
	} else if got, err := pglogrepl.ParseLSN(m[1]); err != nil || got > cp {
		t.Errorf("status shows stored checkpoint %s, checkpoint.json has %s (it only grows)", m[1], cp)
	}
	if regexp.MustCompile(`slot state\s+missing`).MatchString(out) {
		t.Errorf("status says the slot is missing")
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
	if n := len(col.topicsWithPrefix(cfg.TopicPrefix)); n != 1 {
		t.Errorf("%d topics with prefix %s, want only the marker's (no heartbeat topic is configured)", n, cfg.TopicPrefix)
	}
}

// TestResilienceStatusWhileStreaming: `walrelay status` is read-only. Run
// over and over (as `watch walrelay status` would) while the relay streams
// a steady trickle of changes and saves its checkpoint every 100 ms, it must
// not disturb the relay: no pipeline restart, and the relay keeps
// publishing and checkpointing.
func TestResilienceStatusWhileStreaming(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)

	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- trickle(dsn, quit) }()
	runs := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); runs++ {
		if out, errOut, code := runWalrelay(t, 60*time.Second, "status", "--config", cfg.path); code != 0 {
			t.Fatalf("walrelay status exit %d:\n%s%s", code, out, errOut)
		}
	}
	t.Logf("%d runs of walrelay status while the relay streamed", runs)
	stillCheckpointing(t, r, 10*time.Second)
	close(quit)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	catchUp(t, cfg, conn, col, col, 30*time.Second)
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Errorf("the relay restarted its pipeline %d times while walrelay status ran", n)
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// stillCheckpointing fails the test unless the relay's stored checkpoint
// moves within timeout (while changes are being written). If it does not, it
// sends the relay SIGQUIT and reports the walrelay frames of the goroutine
// dump Go prints.
func stillCheckpointing(t *testing.T, r *relay, timeout time.Duration) {
	t.Helper()
	cp := r.cfg.mustCheckpoint()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if now, _, _ := r.cfg.checkpoint(); now > cp {
			return
		}
	}
	_ = r.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
	t.Fatalf("the relay's checkpoint stayed at %s for %s while changes were written; its main goroutine (SIGQUIT dump):\n%s",
		cp, timeout, mainGoroutine(r.output()))
}

// mainGoroutine returns the walrelay frames of goroutine 1 in a Go
// goroutine dump.
func mainGoroutine(dump string) string {
	var out []string
	in, frame := false, false
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(line, "goroutine 1 "):
			in = true
			out = append(out, line)
		case !in:
		case line == "":
			return strings.Join(out, "\n")
		case strings.HasPrefix(line, "github.com/walrelay/walrelay"):
			frame = true
			out = append(out, line)
		case frame && strings.HasPrefix(line, "\t"): // the frame's file:line
			frame = false
			out = append(out, line)
		default:
			frame = false
		}
	}
	return strings.Join(out, "\n")
}

// trickle inserts a marker row every 5 ms until quit.
func trickle(dsn string, quit <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		select {
		case <-quit:
			return nil
		case <-time.After(5 * time.Millisecond):
		}
		if _, err := conn.Exec(ctx, "INSERT INTO e2e_marker DEFAULT VALUES"); err != nil {
			return err
		}
	}
}
