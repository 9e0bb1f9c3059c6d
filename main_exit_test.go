package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFailureIsLogged (audit m9): once `walrelay run` has its logger, a
// failure (here PostgreSQL unreachable at start-up) is its last log line,
// the "stopped" line, JSON like the rest of the log and printed whatever
// log.level says, with the error and exit_code 1; not a plain-text
// "walrelay: ..." line in a JSON log.
func TestRunFailureIsLogged(t *testing.T) {
	code, errOut := runUnreachable(t, t.TempDir(), "log:\n  level: error\n  format: json\n")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var f map[string]any
	if code != 1 || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &f) != nil {
		t.Fatalf("exit code %d, stderr %q: want 1 and one JSON line", code, errOut)
	}
	if f["message"] != "stopped" || f["level"] != "error" || f["exit_code"] != 1.0 || f["reason"] != "error" ||
		!strings.Contains(f["error"].(string), "cannot connect to 127.0.0.1:1") {
		t.Errorf("last line %v: want the \"stopped\" line at level error with the error and exit_code 1", f)
	}
}

// runUnreachable runs `walrelay run` with data_dir dataDir, the YAML
// logSection, and PostgreSQL and Kafka addresses where nothing answers; it
// returns the exit code and stderr.
func runUnreachable(t *testing.T, dataDir, logSection string) (code int, stderr string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	body := "postgres:\n  dsn: postgres://u@127.0.0.1:1/db?connect_timeout=2\nkafka:\n  brokers: [127.0.0.1:1]\n" + logSection
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WALRELAY_DATA_DIR", dataDir)
	code, _, stderr = runMain(t, "run", "--config", cfg)
	return code, stderr
}
