package decoder

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestPublishedRowsLeaveMemory: once the changes the decoder returned are
// dropped (published), the decoder keeps less than 512 KiB of them (twice
// slabBytes), however large their values, so not even one of these rows or
// their messages: 100 rows of 1 MiB, each in its own transaction or all in
// one (still open), inserted, updated with the old row or deleted;
// transactional logical messages of 1 MiB; and 2,000 rows of 24 KiB (under
// the size that gets its own memory, over the count of rows a value slab
// holds). Not parallel: it measures the process's heap.
func TestPublishedRowsLeaveMemory(t *testing.T) {
	const (
		oid   = 16700
		mib   = 1 << 20
		bound = 2 * slabBytes
	)
	big, half, mid := strings.Repeat("x", mib), strings.Repeat("y", mib/2), strings.Repeat("z", 24<<10)
	cases := []struct {
		name  string
		rows  int
		oneTx bool // all rows in one transaction, measured before its commit
		msg   func(i int) []byte
		size  int // length of the change's largest value
	}{
		{"insert 1 MiB, a transaction each", 100, false,
			func(i int) []byte { return insertMsg(oid, txt(strconv.Itoa(i)), txt(big)) }, mib},
		{"insert 1 MiB, one transaction", 100, true,
			func(i int) []byte { return insertMsg(oid, txt(strconv.Itoa(i)), txt(big)) }, mib},
		{"update 2 x 512 KiB with the old row", 100, true,
			func(i int) []byte {
				return updateMsg(oid, 'O', []tv{txt(strconv.Itoa(i)), txt(half)}, []tv{txt(strconv.Itoa(i)), txt(half)})
			}, mib / 2},
		{"delete 1 MiB old row", 100, false,
			func(i int) []byte { return deleteMsg(oid, 'O', txt(strconv.Itoa(i)), txt(big)) }, mib},
		{"insert 24 KiB", 2000, true,
			func(i int) []byte { return insertMsg(oid, txt(strconv.Itoa(i)), txt(mid)) }, 24 << 10},
		{"logical message 1 MiB", 100, false,
			func(int) []byte { return logicalMsg(true, 50, "p", []byte(big)) }, mib},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := New(Options{})
			rel := relMsg(oid, "public", "doc", event.IdentityFull,
				wcol{1, "id", pgtype.Int4OID, -1}, wcol{0, "body", pgtype.TextOID, -1})
			if _, err := d.Decode(ctx, 1, rel); err != nil {
				t.Fatal(err)
			}
			before := liveHeap()
			for i := range tc.rows {
				if i == 0 || !tc.oneTx {
					mustDecode(t, d, beginMsg(uint64(1000+i), uint32(i+1), commitAt))
				}
				r := mustDecode(t, d, tc.msg(i))
				if n := largest(r.Changes[0]); len(r.Changes) != 1 || n != tc.size {
					t.Fatalf("row %d: %d changes, largest value %d bytes, want 1 and %d", i, len(r.Changes), n, tc.size)
				}
				if !tc.oneTx {
					mustDecode(t, d, commitMsg(uint64(1000+i), uint64(1001+i), commitAt))
				}
			}
			kept := liveHeap() - before
			t.Logf("%d rows: %d KiB kept", tc.rows, kept>>10)
			if kept > bound {
				t.Errorf("after %d rows were decoded and dropped, the decoder keeps %d KiB; want under %d KiB",
					tc.rows, kept>>10, bound>>10)
			}
			runtime.KeepAlive(d)
		})
	}
}

func mustDecode(t *testing.T, d *Decoder, msg []byte) Result {
	t.Helper()
	r, err := d.Decode(context.Background(), 100, msg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// largest returns the length of the largest text value or message content
// of c.
func largest(c *event.Change) int {
	n := 0
	if c.Message != nil {
		n = len(c.Message.Content)
	}
	for _, row := range [][]any{c.Before, c.After} {
		for _, v := range row {
			if s, ok := v.(string); ok {
				n = max(n, len(s))
			}
		}
	}
	return n
}
