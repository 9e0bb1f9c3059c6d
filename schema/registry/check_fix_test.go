package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckFixWhenNeeded: the fix `walrelay check` prints for a registry it
// cannot reach says when walrelay needs the registry as README does (at a
// table's first change after the process starts and at schema changes),
// not that the start needs it: a registry that is down does not stop the
// start.
func TestCheckFixWhenNeeded(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t) // nothing listens there
	b, err := NewHTTPBackend(HTTPConfig{URL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	r := b.Check(context.Background())
	if r.OK {
		t.Fatalf("a dead registry passed: %+v", r)
	}
	for _, want := range []string{"first change after the process starts", "every schema change", "does not stop the start"} {
		if !strings.Contains(r.Fix, want) {
			t.Errorf("fix %q lacks %q", r.Fix, want)
		}
	}
	if strings.Contains(r.Fix, "when it starts") {
		t.Errorf("fix %q says the start needs the registry", r.Fix)
	}
}
