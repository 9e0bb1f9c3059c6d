package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// waitExit waits for a process that should exit by itself and returns its
// exit code; it fails the test (after killing it) if it still runs after
// timeout.
func (r *relay) waitExit(timeout time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
		return r.state.ExitCode()
	case <-time.After(timeout):
		r.kill()
		r.t.Fatalf("walrelay still running %s after start, expected it to exit by itself; log tail:\n%s",
			timeout, r.cfg.logTail(30))
		return 0
	}
}

// output returns what this process wrote to the log (stdout and stderr).
func (r *relay) output() string {
	b, err := os.ReadFile(r.cfg.logPath)
	if err != nil || int64(len(b)) < r.logStart {
		return ""
	}
	return string(b[r.logStart:])
}

// countLog counts this process's JSON log lines whose message is msg.
func (r *relay) countLog(msg string) int {
	n := 0
	needle := fmt.Sprintf(`"message":%q`, msg)
	for _, line := range strings.Split(r.output(), "\n") {
		if strings.Contains(line, needle) {
			n++
		}
	}
	return n
}

// runWalrelay runs `walrelay ARGS...` to completion (bounded by timeout)
// and returns its stdout, stderr and exit code.
func runWalrelay(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, relayBin, args...)
	cmd.Env = relayEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("walrelay %s did not finish within %s; stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), timeout, o.String(), e.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("walrelay %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// slotLSNs returns a slot's confirmed_flush_lsn and restart_lsn.
func slotLSNs(ctx context.Context, conn *pgx.Conn, slot string) (confirmed, restart pglogrepl.LSN, err error) {
	var c, r *string
	err = conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, restart_lsn::text
		FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&c, &r)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("slot %s does not exist", slot)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("slot %s: %w", slot, err)
	}
	if c == nil || r == nil {
		return 0, 0, fmt.Errorf("slot %s: confirmed_flush_lsn %v, restart_lsn %v", slot, c, r)
	}
	if confirmed, err = pglogrepl.ParseLSN(*c); err == nil {
		restart, err = pglogrepl.ParseLSN(*r)
	}
	return confirmed, restart, err
}

// currentLSN returns pg_current_wal_lsn().
func currentLSN(t *testing.T, conn *pgx.Conn) pglogrepl.LSN {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var s string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&s); err != nil {
		t.Fatalf("pg_current_wal_lsn: %v", err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatalf("pg_current_wal_lsn %q: %v", s, err)
	}
	return lsn
}

// requireWords fails the test unless text contains every word (case-sensitive).
func requireWords(t *testing.T, what, text string, words ...string) {
	t.Helper()
	var missing []string
	for _, w := range words {
		if !strings.Contains(text, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s lacks %q; it is:\n%s", what, missing, text)
	}
}

// errorLine returns the error a failed command ended with, as
// "walrelay: ERROR": the last "walrelay: ..." line, or the error of a JSON
// "stopped" line (how `walrelay run` ends once its logger exists),
// whichever came last.
func errorLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "walrelay: ") {
			return lines[i]
		}
		var f map[string]any
		if json.Unmarshal([]byte(lines[i]), &f) == nil && f["message"] == "stopped" && f["error"] != nil {
			return fmt.Sprint("walrelay: ", f["error"])
		}
	}
	return ""
}
