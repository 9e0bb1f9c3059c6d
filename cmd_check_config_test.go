package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigWarnings (audit d5): `walrelay check` prints the config's
// warnings (heartbeat.topic without heartbeat.interval) as warn lines with
// the key's line and the fix, before the connection findings.
func TestCheckConfigWarnings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "walrelay.yaml")
	body := "postgres:\n  dsn: postgres://u@127.0.0.1:1/db?connect_timeout=1\nkafka:\n  brokers: [127.0.0.1:1]\n" +
		"format: json\nheartbeat:\n  topic: app.hb\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := cmdCheck(context.Background(), []string{"--config", file}, &out, io.Discard); err == nil {
		t.Fatal("check passed without a database")
	}
	first, _, _ := strings.Cut(out.String(), "\n      fix: ")
	want := `warn  ` + file + `:7: heartbeat.topic: set to "app.hb" while heartbeat.interval is 0s (off)`
	if !strings.HasPrefix(first, want) || !strings.Contains(out.String(), "fix: set heartbeat.interval, e.g. 10s") {
		t.Errorf("check printed:\n%s\nwant first %q with its fix", out.String(), want)
	}
}
