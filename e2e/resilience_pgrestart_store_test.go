package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestPostgresRestartWithPostgresStore (auditchaos MINOR 2): with
// checkpoint.store: postgres, a PostgreSQL restart (fast mode) ends the
// session, and walrelay streams again by itself. Its log must say that
// PostgreSQL went away: the "pipeline halted" line's error says so first,
// whichever connection noticed (the replication stream, or a checkpoint
// save to the restarting server), and a save that fails as the session
// ends is a warning naming the checkpoint the next session resumes from,
// not a "final checkpoint failed" error (that is SIGTERM's). No other
// error-level line.
func TestPostgresRestartWithPostgresStore(t *testing.T) {
	t.Parallel()
	pg := testenv.PrivatePG(t)
	dsn := pg.NewDatabase(t)
	brokers := kafkaBrokers(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE prs (id int PRIMARY KEY, v text)")
	cfg := newRelayConfig(t, dsn, brokers, "public.prs")
	cfg.set("checkpoint.store", "postgres")
	r := startRelay(t, cfg)
	testenv.ExecDSN(t, dsn, "INSERT INTO prs VALUES (1, 'a')")
	time.Sleep(1500 * time.Millisecond) // a few checkpoint saves

	streams := r.countLog("streaming")
	if err := pg.Devenv().Restart("fast"); err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	waitStreams(t, r, streams+1, 20*time.Second)

	halts := 0
	for _, line := range strings.Split(r.output(), "\n") {
		var f map[string]any
		if json.Unmarshal([]byte(line), &f) != nil {
			continue
		}
		msg, _ := f["message"].(string)
		errText, _ := f["error"].(string)
		switch {
		case msg == "final checkpoint failed":
			t.Errorf("a restart of PostgreSQL logged %q (level %v), as if walrelay stopped: %s", msg, f["level"], line)
		case msg == "pipeline halted; restarting from the checkpoint":
			halts++
			if !strings.HasPrefix(errText, "PostgreSQL went away (") {
				t.Errorf("the halt's error does not say PostgreSQL went away: %q", errText)
			}
		case strings.HasPrefix(msg, "checkpoint not saved as the session ended"):
			if f["level"] != "warn" || f["resume_lsn"] == nil {
				t.Errorf("the end-of-session save failure is not a warning naming resume_lsn: %s", line)
			}
		case f["level"] == "error":
			t.Errorf("unexpected error-level line at a PostgreSQL restart: %s", line)
		}
	}
	if halts == 0 {
		t.Error("no \"pipeline halted\" line for the restart")
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}
