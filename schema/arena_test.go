package schema

import (
	"bytes"
	"testing"
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
