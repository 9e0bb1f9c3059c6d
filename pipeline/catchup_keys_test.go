package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// keysFixture is a catch-up key set over a keyed table (public.k: id key,
// v) and a keyless one (public.nk: a, b), holding k ids 1 and 2 and nk row
// (1, "x").
func keysFixture(t *testing.T) (*catchupKeys, *event.Relation, *event.Relation) {
	t.Helper()
	k := &event.Relation{Schema: "public", Table: "k", Columns: []event.Column{{Name: "id", Key: true}, {Name: "v"}}}
	nk := &event.Relation{Schema: "public", Table: "nk", Columns: []event.Column{{Name: "a"}, {Name: "b"}}}
	keys := newCatchupKeys()
	keys.add(k, []any{int32(2), "two"})
	keys.add(k, []any{int32(1), "one"})
	keys.add(nk, []any{int32(1), "x"})
	keys.finish()
	return keys, k, nk
}

func TestCatchupKeysLookup(t *testing.T) {
	t.Parallel()
	keys, k, nk := keysFixture(t)
	other := &event.Relation{Schema: "public", Table: "other", Columns: k.Columns}
	// public.k under a rule's key: [v, id]: another record key.
	ruleKey := &event.Relation{Schema: "public", Table: "k", Columns: []event.Column{{Name: "id", Key: true}, {Name: "v", Key: true}},
		KeyOrder: []int{1, 0}}
	cases := []struct {
		name string
		rel  *event.Relation
		row  []any
		want keyPresence
	}{
		{"key read", k, []any{int32(1), event.Absent{}}, keyPresent},
		{"key not read", k, []any{int32(3), event.Absent{}}, keyAbsent},
		{"same value, other type", k, []any{int64(1), event.Absent{}}, keyAbsent},
		{"key unknown", k, []any{event.Unavailable{}, "v"}, keyUnknown},
		{"another table, same key", other, []any{int32(1), nil}, keyAbsent},
		{"same table and value, another key column", ruleKey, []any{int32(1), "one"}, keyAbsent},
		{"keyless row read", nk, []any{int32(1), "x"}, keyPresent},
		{"keyless row not read", nk, []any{int32(1), "y"}, keyAbsent},
		{"keyless row with TOAST", nk, []any{int32(1), event.Unavailable{}}, keyUnknown},
	}
	for _, tc := range cases {
		if got := keys.lookup(tc.rel, tc.row); got != tc.want {
			t.Errorf("%s: lookup = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestUncoveredDelete(t *testing.T) {
	t.Parallel()
	keys, k, _ := keysFixture(t)
	s := &session{catchupKeys: keys}
	tx := &event.Tx{CommitLSN: 0x100, Xid: 7}
	del := func(id int32) *event.Change {
		return &event.Change{Op: event.OpDelete, Tx: tx, Relation: k, Before: []any{id, event.Absent{}}}
	}
	upd := func(from, to int32) *event.Change {
		return &event.Change{Op: event.OpUpdate, Tx: tx, Relation: k, Before: []any{from, event.Absent{}}, After: []any{to, "v"}}
	}
	if got := s.uncoveredDelete(del(1)); got != nil {
		t.Errorf("delete of a row the snapshot read: published %v", got)
	}
	if got := s.uncoveredDelete(del(5)); got == nil || got.Op != event.OpDelete {
		t.Errorf("delete of a row the snapshot did not read: %v, want the delete", got)
	}
	if got := s.uncoveredDelete(upd(1, 9)); got != nil {
		t.Errorf("key change from a key the snapshot read: published %v", got)
	}
	got := s.uncoveredDelete(upd(6, 2))
	if got == nil || got.Op != event.OpDelete || got.Before[0] != int32(6) || got.After != nil || got.KeyPeer != nil {
		t.Errorf("key change from a key the snapshot did not read: %+v, want its delete half without a peer", got)
	}
	if got := s.uncoveredDelete(upd(6, 6)); got != nil {
		t.Errorf("update that keeps its key: published %v", got)
	}
	if got := s.uncoveredDelete(&event.Change{Op: event.OpTruncate, Tx: tx, Relation: k}); got != nil {
		t.Errorf("truncate: published %v", got)
	}
	// Under a rule's key: [tenant, id] (projected relation), an update of
	// the tenant is a key change though the primary key stays: its old key
	// is absent from the snapshot (which published tenant t2), so its
	// delete goes out.
	rk := &event.Relation{Schema: "public", Table: "rk", Columns: []event.Column{{Name: "id", Key: true}, {Name: "tenant", Key: true}},
		KeyOrder: []int{1, 0}}
	keys.hashes = nil
	keys.add(rk, []any{int32(1), "t2"})
	keys.finish()
	move := &event.Change{Op: event.OpUpdate, Tx: tx, Relation: rk, Before: []any{int32(1), "t1"}, After: []any{int32(1), "t2"}}
	if got := s.uncoveredDelete(move); got == nil || got.Op != event.OpDelete || got.Before[1] != "t1" {
		t.Errorf("key change under a rule's key: %+v, want the delete of tenant t1", got)
	}
	if got := (&session{}).uncoveredDelete(del(5)); got != nil {
		t.Errorf("without a key set: published %v", got)
	}
	if s.catchupDeletes != 3 {
		t.Errorf("catchupDeletes = %d, want 3", s.catchupDeletes)
	}
}

func TestCatchupKeysFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keys, k, nk := keysFixture(t)
	if err := keys.save(dir, 0x1234); err != nil {
		t.Fatal(err)
	}
	got, err := loadCatchupKeys(dir, 0x1234)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range [][]any{{int32(1), nil}, {int32(2), nil}, {int32(3), nil}} {
		if a, b := keys.lookup(k, row), got.lookup(k, row); a != b {
			t.Errorf("row %v: %d after loading, %d before", row, b, a)
		}
	}
	if p := got.lookup(nk, []any{int32(1), "x"}); p != keyPresent {
		t.Errorf("keyless row after loading: %d, want present", p)
	}
	if _, err := loadCatchupKeys(dir, 0x9999); err == nil {
		t.Error("loaded the keys of the catch-up at 0/1234 for the one at 0/9999")
	}
	b, err := os.ReadFile(filepath.Join(dir, catchupKeysFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, catchupKeysFile), b[:len(b)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadCatchupKeys(dir, 0x1234); err == nil {
		t.Error("loaded a truncated file")
	}
	if err := removeCatchupKeys(dir); err != nil {
		t.Fatal(err)
	}
	if err := removeCatchupKeys(dir); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
}

// BenchmarkCatchupKeysAdd measures what keeping a blocking catch-up's keys
// adds per snapshot row (a bigint key of an orders-like row).
func BenchmarkCatchupKeysAdd(b *testing.B) {
	rel := &event.Relation{Schema: "public", Table: "orders", Columns: []event.Column{
		{Name: "id", Key: true}, {Name: "qty"}, {Name: "note"}}}
	keys := newCatchupKeys()
	row := []any{int64(0), int32(3), "a note"}
	b.ReportAllocs()
	for i := range b.N {
		row[0] = int64(i)
		keys.add(rel, row)
	}
}
