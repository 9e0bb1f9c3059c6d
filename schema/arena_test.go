package schema

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// TestArenaCopies: every copy holds its bytes, survives later copies and
// appends to other copies, and crosses chunk boundaries; copies larger than
// arenaMax are allocated on their own.
func TestArenaCopies(t *testing.T) {
	var a arena
	var copies [][]byte
	var want [][]byte
	for i := 0; i < 3*arenaChunk/1000; i++ {
		b := bytes.Repeat([]byte{byte(i)}, 1000+i%7)
		copies = append(copies, a.copyOf(b))
		want = append(want, b)
	}
	for i, c := range copies {
		if cap(c) != len(c) {
			t.Fatalf("copy %d: cap %d != len %d (appends would overwrite the next record)", i, cap(c), len(c))
		}
		_ = append(c, 0xff) // must reallocate, not write into the next copy
	}
	for i := range copies {
		if !bytes.Equal(copies[i], want[i]) {
			t.Fatalf("copy %d changed", i)
		}
	}
	big := bytes.Repeat([]byte{7}, arenaMax+1)
	c := a.copyOf(big)
	if !bytes.Equal(c, big) || cap(c) != len(c) {
		t.Fatal("large copy wrong")
	}
	if len(a.chunk) > arenaChunk {
		t.Fatalf("chunk grew past its size: %d", len(a.chunk))
	}
}

// TestBuildNoLayouts: a change with no records builds none.
func TestBuildNoLayouts(t *testing.T) {
	var a arena
	if recs := build(&a, []byte("x"), nil); len(recs) != 0 {
		t.Fatalf("got %d records", len(recs))
	}
}

// TestArenaRecords: single records come from the slab, each distinct and
// with its own headers, across slab boundaries; appending a header to one
// never writes into the next; two records, or one larger than arenaMax,
// come as a fresh block; a slab holding arenaChunk bytes of records is
// replaced by a new one.
func TestArenaRecords(t *testing.T) {
	var a arena
	seen := map[*event.Record]bool{}
	var all [][]event.Header
	for i := 0; i < 3*slabBlocks; i++ {
		recs, hdrs := a.records(1, 100)
		if len(recs) != 1 || len(hdrs) != numHeaders || cap(hdrs) != numHeaders {
			t.Fatalf("block %d: %d records, %d headers (cap %d)", i, len(recs), len(hdrs), cap(hdrs))
		}
		if seen[&recs[0]] {
			t.Fatalf("block %d: record handed out twice", i)
		}
		seen[&recs[0]] = true
		for j := range hdrs {
			hdrs[j].Key = fmt.Sprint(i, "/", j)
		}
		_ = append(hdrs, event.Header{Key: "extra"}) // must reallocate
		all = append(all, hdrs)
	}
	for i, hdrs := range all {
		for j := range hdrs {
			if want := fmt.Sprint(i, "/", j); hdrs[j].Key != want {
				t.Fatalf("block %d header %d = %q, want %q", i, j, hdrs[j].Key, want)
			}
		}
	}
	left := len(a.slab)
	if recs, _ := a.records(1, arenaMax+1); len(recs) != 1 || len(a.slab) != left {
		t.Fatalf("a record of more than arenaMax bytes: %d records, slab %d -> %d blocks; want 1, from no slab", len(recs), left, len(a.slab))
	}
	var b arena
	b.records(1, arenaMax) // starts a slab
	for i := 2; i*arenaMax <= arenaChunk; i++ {
		if b.records(1, arenaMax); len(b.slab) != slabBlocks-i {
			t.Fatalf("record %d of %d bytes: %d blocks left in the slab, want %d", i, arenaMax, len(b.slab), slabBlocks-i)
		}
	}
	if b.records(1, 1); len(b.slab) != slabBlocks-1 {
		t.Fatalf("a slab holding %d bytes of records took one more", arenaChunk)
	}
	recs, hdrs := a.records(2, 100)
	if len(recs) != 2 || len(hdrs) != 2*numHeaders {
		t.Fatalf("two records: got %d records, %d headers", len(recs), len(hdrs))
	}
	if recs, hdrs := a.records(0, 0); recs != nil || hdrs != nil {
		t.Fatal("no records: got some")
	}
}
