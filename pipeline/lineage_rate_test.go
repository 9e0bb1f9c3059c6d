package pipeline

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
)

// TestLineageBuiltAtMostEverySecond (auditscale2: after a restart, the first
// change of each of 2,000 tables rebuilt the whole column lineage, 38% of the
// CPU): when a rebuilt lineage equals the one saved (first sights of tables
// saved before the restart), nothing is written and the next rebuild still
// waits lineageEvery, so a restart's first changes cost one build a second,
// not one per table.
func TestLineageBuiltAtMostEverySecond(t *testing.T) {
	const src = "rules:\n  - tables: [\"public.lr_*\"]\n"
	parse := func() *filter.Rules {
		rs, err := filter.Parse("rules.yaml", []byte(src), "salt")
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	rel := func(oid uint32, table string) *event.Change {
		r := &event.Relation{OID: oid, Schema: "public", Table: table, Version: 1,
			Columns: []event.Column{{Name: "id", TypeName: "int4", TypeOID: 23, Key: true}}}
		return &event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1, Relation: r, After: []any{int32(1)}}
	}
	dir := t.TempDir()
	first := &filterState{current: parse(), dataDir: dir}
	for i, name := range []string{"lr_a", "lr_b", "lr_c"} {
		if _, err := first.apply(rel(uint32(100+i), name), zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.saveLineage(true, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	st, err := loadLineage(dir)
	if err != nil {
		t.Fatal(err)
	}

	// The restart: seeded with the saved state, the last save long ago.
	rules := parse()
	rules.SeedLineage(st)
	next := &filterState{current: rules, dataDir: dir, lineageSaved: first.lineageSaved, lineageAt: time.Now().Add(-2 * lineageEvery)}
	if _, err := next.apply(rel(100, "lr_a"), zerolog.Nop()); err != nil { // built: equal to the file
		t.Fatal(err)
	}
	if since := time.Since(next.lineageAt); since > lineageEvery/2 {
		t.Fatalf("an unchanged lineage was built %s after the last build, and the time of the build was not kept", since)
	}
	if _, err := next.apply(rel(101, "lr_b"), zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if !rules.LineagePending() {
		t.Error("the next table's first sight rebuilt the lineage at once; want it to wait lineageEvery")
	}
}
