package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envTestConfig is the audit's ok.yaml: postgres.dsn on line 2,
// kafka.brokers on line 7. Nothing listens at either address; every case
// below fails while loading the config, before connecting.
const envTestConfig = `postgres:
  dsn: postgres://walrelay@127.0.0.1:1/app
  slot: env_audit
kafka:
  linger: 5ms
  compression: none
  brokers: [127.0.0.1:1]
`

// TestConfigEnvErrors: `walrelay run` and `walrelay check` refuse a bad
// value from a WALRELAY_ variable naming the variable and the line of the
// file it overrides, and refuse a misspelled variable naming the nearest
// config variable (audit D6).
func TestConfigEnvErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ok.yaml")
	if err := os.WriteFile(path, []byte(envTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  string
		want []string
	}{
		{"WALRELAY_POSTGRES_DSN=mysql://x@y/z", []string{"WALRELAY_POSTGRES_DSN: a mysql:// URL is not a PostgreSQL connection string",
			"set in the environment for postgres.dsn, overriding " + path + ":2"}},
		{"WALRELAY_POSTGRES_DSN=", []string{"WALRELAY_POSTGRES_DSN: set but empty", "overriding " + path + ":2"}},
		{"WALRELAY_KAFKA_BROKERS=notahost", []string{`WALRELAY_KAFKA_BROKERS: "notahost" is not host:port`,
			"overriding " + path + ":7"}},
		{"WALRELAY_LIMITS_MAX_INFLIGHT_BYTES=10", []string{"WALRELAY_LIMITS_MAX_INFLIGHT_BYTES: 10 bytes is too small",
			"limits.max_inflight_bytes"}},
		{"WALRELAY_KAFAK_BROKERS=x:1", []string{"WALRELAY_KAFAK_BROKERS: matches no config key",
			"did you mean WALRELAY_KAFKA_BROKERS"}},
		{"WALRELAY_POSTGRES_SLTO=x", []string{"WALRELAY_POSTGRES_SLTO: matches no config key",
			"did you mean WALRELAY_POSTGRES_SLOT"}},
	}
	for _, tc := range cases {
		for _, cmd := range []string{"run", "check"} {
			t.Run(cmd+" "+tc.env, func(t *testing.T) {
				t.Parallel()
				out, code := runWithEnv(t, tc.env, cmd, "--config", path)
				if code == 0 {
					t.Errorf("exit 0, want an error; output:\n%s", out)
				}
				line := errorLine(out) // run: the JSON "stopped" line's error (auditc2 #7); check: a plain line
				for _, w := range tc.want {
					if !strings.Contains(line, w) {
						t.Errorf("error %q lacks %q; output:\n%s", line, w, out)
					}
				}
				if strings.Contains(line, path+":2:") || strings.Contains(line, path+":7:") || strings.Contains(line, "max_inflight_events") {
					t.Errorf("output blames the file or another key:\n%s", out)
				}
			})
		}
	}
}

// runWithEnv runs walrelay with the test's environment less WALRELAY_*
// variables plus env, for at most 30 s, and returns stdout and stderr
// together and the exit code.
func runWithEnv(t *testing.T, env string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, relayBin, args...)
	cmd.Env = append(relayEnv(), env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("walrelay %s did not finish within 30s; output:\n%s", strings.Join(args, " "), out.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("walrelay %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}
