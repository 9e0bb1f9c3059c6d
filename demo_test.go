package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/devenv"
)

// TestDemo runs `walrelay demo` as README's first command does and checks
// that a consumer read every event back.
func TestDemo(t *testing.T) {
	if _, err := devenv.FindPostgresBinDir(); errors.Is(err, devenv.ErrNoPostgresBinaries) {
		t.Skipf("the demo needs local PostgreSQL binaries: %v", err)
	}
	code, out, errOut := runMain(t, "demo")
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"op=c", "op=u", "op=d", "(tombstone)", "ce_id=", `"status":"paid"`} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "ce_id="); n != demoEvents {
		t.Errorf("demo printed %d records, want %d:\n%s", n, demoEvents, out)
	}
}
