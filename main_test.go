package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = realMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runMain(t, "version"); code != 0 || !strings.HasPrefix(out, "walrelay ") {
		t.Errorf("version: code %d, out %q", code, out)
	}
	if code, _, errOut := runMain(t); code != 2 || !strings.Contains(errOut, "Usage:") {
		t.Errorf("no args: code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runMain(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut)
	}
}

// Bad input ends with one clear line on stderr and exit status 1, never a panic.
func TestBadInputOneLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"run", "--config", filepath.Join(dir, "nope.yaml")}, "cannot read config"},
		{"unknown key", []string{"run", "--config", write("a.yaml", "postgres:\n  dns: x\n")}, "a.yaml:2: postgres.dns: unknown key"},
		{"bad dsn", []string{"run", "--config", write("b.yaml", "postgres:\n  dsn: 'host=127.0.0.1 port=notaport'\nkafka:\n  brokers: [127.0.0.1:1]\n")}, "postgres.dsn"},
		{"unreachable postgres", []string{"run", "--config", write("c.yaml", "postgres:\n  dsn: postgres://u@127.0.0.1:1/db?connect_timeout=2\nkafka:\n  brokers: [127.0.0.1:1]\n")}, "cannot connect to 127.0.0.1:1"},
		{"bad replay lsn", []string{"run", "--config", write("d.yaml", "postgres:\n  dsn: postgres://u@h/db\nkafka:\n  brokers: [a:1]\n"), "--replay-from", "yesterday"}, "not an LSN"},
		{"check unreachable", []string{"check", "--config", write("e.yaml", "postgres:\n  dsn: postgres://u@127.0.0.1:1/db?connect_timeout=2\nkafka:\n  brokers: [127.0.0.1:1]\n")}, "check found problems"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("WALRELAY_DATA_DIR", t.TempDir())
			code, _, errOut := runMain(t, tc.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1 (stderr %q)", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr = %q, want one line containing %q", errOut, tc.want)
			}
		})
	}
}
