package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunLogFlagsValidated (audit auditreadme #3): --log-format and
// --log-level take only what log.format and log.level take in the file or a
// WALRELAY_LOG_ variable. An unknown value ends `walrelay run` at once with
// one plain line naming the flag and the allowed values, before the config
// is read: --log-format=xml was taken silently (JSON logs), and
// --log-level=verbose said `log.level "verbose": ... defaulting to NoLevel`.
func TestRunLogFlagsValidated(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	body := "postgres:\n  dsn: postgres://u@127.0.0.1:1/db\nkafka:\n  brokers: [127.0.0.1:1]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// A config error stops run before it connects anywhere, whatever the flags.
	t.Setenv("WALRELAY_KAFKA_BROKERS", "notahost")
	for _, c := range []struct{ flag, want string }{
		{"--log-format=xml", "walrelay: --log-format: unknown format \"xml\" (use json or console)\n"},
		{"--log-level=verbose", "walrelay: --log-level: unknown level \"verbose\" (use debug, info, warn or error)\n"},
	} {
		code, _, errOut := runMain(t, "run", "--config", cfg, c.flag)
		if code != 1 || errOut != c.want {
			t.Errorf("%s: exit code %d, stderr %q; want 1 and %q", c.flag, code, errOut, c.want)
		}
	}
	for _, ok := range []string{"--log-format=console", "--log-level=debug"} {
		if code, _, errOut := runMain(t, "run", "--config", cfg, ok); code != 1 || !strings.Contains(errOut, "notahost") {
			t.Errorf("%s: exit code %d, stderr %q; want the config error", ok, code, errOut)
		}
	}
}
