package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

// TestFilterStateHalt: a rule that cannot decide a change (here a column
// the relation lacks) is an error, never a drop, and its message says what
// happens next: before the Run first streamed the process exits (fix, then
// start again; no SIGHUP to a process that is gone), afterwards the session
// restarts and SIGHUP loads the fixed file.
func TestFilterStateHalt(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{OID: 1, Schema: "public", Table: "small", Version: 2,
		Columns: []event.Column{{Name: "id", TypeName: "int4", Key: true}, {Name: "v", TypeName: "text"}}}
	ch := &event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1, Relation: rel, After: []any{int32(5), "e"}}
	for _, c := range []struct {
		exits     bool
		want, not string
	}{
		{true, "walrelay stops: fix the rules file, then start walrelay again", "SIGHUP"},
		{false, "the pipeline restarts from the checkpoint until the rules file is fixed: fix it, then send SIGHUP", "start walrelay again"},
	} {
		rules := mustRules(t, "rules: [{tables: [public.small], where: 'row.n > 2'}]")
		st := &filterState{current: rules, exits: func() bool { return c.exits }}
		d, err := st.apply(ch, zerolog.Nop())
		var re *filter.RuleError
		if !errors.As(err, &re) || re.Column != "n" {
			t.Fatalf("exits %v: decision %s, error %v, want a RuleError for column n", c.exits, d.Action, err)
		}
		if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, c.not) ||
			!strings.Contains(msg, `column "n" does not exist in public.small`) {
			t.Errorf("exits %v: %q, want %q and not %q", c.exits, msg, c.want, c.not)
		}
	}
	// Other errors pass unchanged.
	other := errors.New("x")
	if got := (&filterState{exits: func() bool { return true }}).halt(other); got != other {
		t.Errorf("halt changed a non-rule error: %v", got)
	}
}
