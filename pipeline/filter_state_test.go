package pipeline

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

func mustRules(t *testing.T, src string) *filter.Rules {
	t.Helper()
	rs, err := filter.Parse("rules.yaml", []byte(src), "")
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestFilterStateSwitch: rules staged by a reload inside a transaction
// decide from the next transaction on; staged between transactions, from the
// next change on. A transaction is never split between two rule sets.
func TestFilterStateSwitch(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{OID: 1, Schema: "public", Table: "t", Version: 1, Columns: []event.Column{{Name: "id", Key: true}}}
	v1 := mustRules(t, "rules: [{tables: [public.t]}]")
	v2 := mustRules(t, "rules: [{tables: [public.t], topic: routed}]")
	txA, txB, txC := &event.Tx{CommitLSN: 10}, &event.Tx{CommitLSN: 20}, &event.Tx{CommitLSN: 30}
	ch := func(tx *event.Tx) *event.Change {
		return &event.Change{Op: event.OpCreate, Tx: tx, Ordinal: 1, Relation: rel, After: []any{int64(1)}}
	}
	st := &filterState{current: v1}
	st.latest.Store(v1)
	topic := func(tx *event.Tx) string {
		d, err := st.apply(ch(tx), zerolog.Nop())
		if err != nil || d.Action != filter.Keep {
			t.Fatalf("apply: %v %v", d.Action, err)
		}
		return d.Topic
	}
	if topic(txA) != "" {
		t.Fatal("v1 routes")
	}
	st.stage(v2, true) // SIGHUP in the middle of txA
	if st.latest.Load() != v2 {
		t.Error("the poller does not see the staged rules")
	}
	if got := topic(txA); got != "" {
		t.Errorf("the rest of txA went to %q under the new rules", got)
	}
	if got := topic(txB); got != "routed" {
		t.Errorf("txB went to %q, want routed", got)
	}
	st.stage(v1, false) // SIGHUP between transactions
	if got := topic(txC); got != "" {
		t.Errorf("txC went to %q, want the table's topic", got)
	}
}

func TestDiffPubTables(t *testing.T) {
	t.Parallel()
	a, b, c := pubTable{"public", "a"}, pubTable{"public", "b"}, pubTable{"s.x", "c"}
	add, drop := diffPubTables([]pubTable{a, c}, []pubTable{a, b})
	if len(add) != 1 || add[0] != c || len(drop) != 1 || drop[0] != b {
		t.Errorf("add %v drop %v", add, drop)
	}
	if got := pubTableList([]pubTable{a, c}); got != `"public"."a", "s.x"."c"` {
		t.Errorf("quoted list %s", got)
	}
}
