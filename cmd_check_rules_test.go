package main

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/filter"
)

// TestNoTableFinding: rules that capture no table fail walrelay check,
// unless they publish logical decoding messages, which walrelay run
// streams (audit: a messages-only rules file, as README advertises, got
// "FAIL rules capture no existing table").
func TestNoTableFinding(t *testing.T) {
	for _, c := range []struct {
		src, want string
		ok        bool
	}{
		{"default: drop\nmessages:\n  - prefix: ev\n    topic: app.ev\n", "only logical decoding messages (messages:)", true},
		{"default: capture\nrules:\n  - tables: [\"public.*\"]\n    drop: true\n", "default: capture publishes them", true},
		{"default: drop\nrules:\n  - tables: [public.nope]\n", "rules capture no existing table", false},
	} {
		rs, err := filter.Parse("rules.yaml", []byte(c.src), "")
		if err != nil {
			t.Fatal(err)
		}
		f := noTableFinding(rs)
		if f.OK != c.ok || !strings.Contains(f.What, c.want) {
			t.Errorf("%q: finding %+v, want OK %v and %q", c.src, f, c.ok, c.want)
		}
	}
}
