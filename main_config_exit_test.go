package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunConfigErrorIsLogged (audit auditc2 #7): a config error in a
// variable (or any key but the log settings) of a file that parses ends
// `walrelay run` with the "stopped" line of the log the file's and the
// WALRELAY_LOG_ variables' settings ask for, like any failure after
// start-up; not with a plain-text line in a JSON log. A file that cannot be
// parsed has no log settings: its error stays a plain "walrelay: ..." line.
func TestRunConfigErrorIsLogged(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	body := "postgres:\n  dsn: postgres://u@127.0.0.1:1/db\nkafka:\n  brokers: [127.0.0.1:1]\n" +
		"log:\n  level: error\n  format: json\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WALRELAY_KAFKA_BROKERS", "notahost")
	code, _, errOut := runMain(t, "run", "--config", cfg)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var f map[string]any
	if code != 1 || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &f) != nil {
		t.Fatalf("exit code %d, stderr %q: want 1 and one JSON line", code, errOut)
	}
	if f["message"] != "stopped" || f["level"] != "error" || f["exit_code"] != 1.0 || f["reason"] != "error" ||
		!strings.HasPrefix(f["error"].(string), `WALRELAY_KAFKA_BROKERS: "notahost" is not host:port`) {
		t.Errorf("line %v: want the \"stopped\" line at level error with the variable's error and exit_code 1", f)
	}

	// The log format from a variable applies too.
	t.Setenv("WALRELAY_LOG_FORMAT", "console")
	code, _, errOut = runMain(t, "run", "--config", cfg)
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, " stopped ") ||
		!strings.Contains(errOut, "notahost") || strings.HasPrefix(errOut, "walrelay: ") || strings.HasPrefix(errOut, "{") {
		t.Errorf("console: exit code %d, stderr %q: want 1 and one console \"stopped\" line", code, errOut)
	}

	if err := os.WriteFile(cfg, []byte(body+"kafka: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runMain(t, "run", "--config", cfg)
	if code != 1 || !strings.HasPrefix(errOut, "walrelay: "+cfg) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("unparsable file: exit code %d, stderr %q: want 1 and one plain \"walrelay: %s...\" line", code, errOut, cfg)
	}
}
