package pipeline

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

func TestIncrementalAdvance(t *testing.T) {
	t.Parallel()
	cur := &checkpoint.Catchup{Tables: []string{"public.a", "public.b"}, Signal: 0x40}
	full := &snapshot.Chunk{Rows: make([][]any, 3), Last: []string{"9"}}
	next := advance(cur, "public.a", full, 3)
	want := &checkpoint.Catchup{Tables: []string{"public.a", "public.b"}, Signal: 0x40, Current: "public.a", After: []string{"9"}}
	if !reflect.DeepEqual(next, want) {
		t.Errorf("after a full chunk: %+v, want %+v", next, want)
	}
	short := &snapshot.Chunk{Rows: make([][]any, 2), Last: []string{"11"}}
	next = advance(next, "public.a", short, 3)
	if want := (&checkpoint.Catchup{Tables: []string{"public.b"}, Signal: 0x40}); !reflect.DeepEqual(next, want) {
		t.Errorf("after the table's last chunk: %+v, want %+v", next, want)
	}
	if len(cur.Tables) != 2 {
		t.Errorf("advance changed the cursor it started from: %v", cur.Tables)
	}
	if got := advance(next, "public.b", nil, 3); got != nil {
		t.Errorf("after the last table was dropped: %+v, want nil (done)", got)
	}
	if tableOf(next) != "public.b" || tableOf(want) != "public.a" || tableOf(nil) != "" {
		t.Errorf("tableOf: %q %q", tableOf(next), tableOf(want))
	}
}

// The keys of a window's row images match the chunk's rows by value, by
// the chunk key's column names (which may sit elsewhere in the stream's
// relation); an old tuple without the key makes the chunk be read again.
func TestIncrementalChangedKeys(t *testing.T) {
	t.Parallel()
	chunkRel := &event.Relation{Columns: []event.Column{{Name: "id"}, {Name: "region"}, {Name: "v"}}}
	chunk := &snapshot.Chunk{Plan: &snapshot.TablePlan{Relation: chunkRel, ChunkKey: []string{"region", "id"}},
		KeyColumns: []int{1, 0}, Rows: [][]any{{int64(1), "eu", "x"}, {int64(2), "eu", "y"}, {int64(1), "us", "z"}}}
	streamRel := &event.Relation{Columns: []event.Column{{Name: "v"}, {Name: "id"}, {Name: "region"}}}
	keys, ok := changedKeys([]windowRow{{streamRel, []any{"new", int64(2), "eu"}}}, chunk)
	if !ok {
		t.Fatal("changedKeys: not ok")
	}
	var hit []int
	for i, row := range chunk.Rows {
		if keys[keyString(row, chunk.KeyColumns)] {
			hit = append(hit, i)
		}
	}
	if !reflect.DeepEqual(hit, []int{1}) {
		t.Errorf("rows %v of the chunk match the change of (eu, 2), want [1]", hit)
	}
	// Equal text, different types: not the same key.
	if keyString([]any{int64(1)}, []int{0}) == keyString([]any{"1"}, []int{0}) {
		t.Error("int 1 and text '1' give the same key")
	}
	absent := []windowRow{{streamRel, []any{event.Absent{}, event.Absent{}, "eu"}}}
	if _, ok := changedKeys(absent, chunk); ok {
		t.Error("an old tuple without the key's columns passed")
	}
	missing := []windowRow{{&event.Relation{Columns: []event.Column{{Name: "id"}}}, []any{int64(1)}}}
	if _, ok := changedKeys(missing, chunk); ok {
		t.Error("a relation without a key column passed")
	}
}

// A transaction the stream carried before a chunk's window, that the
// chunk's snapshot did not see, makes the chunk of its table be read again;
// transactions the snapshot saw are forgotten.
func TestIncrementalUnseenBefore(t *testing.T) {
	t.Parallel()
	inc := &incremental{before: map[uint32]string{90: "public.a", 105: "public.b", 106: "public.a"}}
	snap, _ := parseXidSnapshot("100:110:105")
	if why := inc.unseenBefore(&incChunk{table: "public.a", snap: snap}); why != "" {
		t.Errorf("public.a: %q; its transactions 90 and 106 were seen", why)
	}
	if !reflect.DeepEqual(inc.before, map[uint32]string{105: "public.b"}) {
		t.Errorf("left %v, want only the unseen 105", inc.before)
	}
	if why := inc.unseenBefore(&incChunk{table: "public.b", snap: snap}); !strings.Contains(why, "transaction 105") {
		t.Errorf("public.b: %q, want it read again for transaction 105", why)
	}
	later, _ := parseXidSnapshot("108:120:")
	if why := inc.unseenBefore(&incChunk{table: "public.b", snap: later}); why != "" || len(inc.before) != 0 {
		t.Errorf("a later snapshot that sees 105: %q, left %v", why, inc.before)
	}
}

// A chunk of a dropped table (no rows, no snapshot) completes the table,
// whatever transactions of it are still unseen: reading it again would
// find it missing again, for ever.
func TestIncrementalDroppedTable(t *testing.T) {
	t.Parallel()
	inc := &incremental{before: map[uint32]string{90: "public.a"}}
	p := &publisher{s: &session{inc: inc}}
	again, err := p.publishChunk(context.Background(), nil, &event.Change{}, &incChunk{table: "public.a"}, &incWindow{})
	if again != "" || err != nil {
		t.Errorf("dropped table: read again %q, err %v; want it done", again, err)
	}
}

// TestIncrementalWindowRowsOnlyPublished: a chunk's read of a key is left
// out only when the stream published a newer state of that key in the
// window. A change the rules dropped (an update under operations: [insert,
// delete]) still counts its transaction, but not its rows, so the read is
// published (snapshot audit: reads of updated rows went missing).
func TestIncrementalWindowRowsOnlyPublished(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{Schema: "public", Table: "a", Columns: []event.Column{{Name: "id"}}}
	inc := &incremental{tables: map[string]bool{"public.a": true}, before: map[uint32]string{},
		rels: map[string]*event.Relation{}, win: &incWindow{id: 1, table: "public.a"}}
	dropped := &event.Change{Op: event.OpUpdate, Relation: rel, Tx: &event.Tx{Xid: 7}, After: []any{int64(1)}}
	inc.observe(dropped) // the rules then drop it: no publishedChange
	kept := &event.Change{Op: event.OpUpdate, Relation: rel, Tx: &event.Tx{Xid: 8}, After: []any{int64(2)}}
	inc.observe(kept)
	inc.publishedChange(kept)
	if got := inc.win.xids; !reflect.DeepEqual(got, []uint32{7, 8}) {
		t.Errorf("window transactions %v, want [7 8] (both, published or not)", got)
	}
	if len(inc.win.rows) != 1 || inc.win.rows[0].vals[0] != int64(2) {
		t.Errorf("window rows %v, want only the published change's (id 2)", inc.win.rows)
	}
}
