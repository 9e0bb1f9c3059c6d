package pipeline

import (
	"math"
	"testing"

	"github.com/walrelay/walrelay/event"
)

func TestXidSnapshotSees(t *testing.T) {
	t.Parallel()
	s, err := parseXidSnapshot("100:110:102,105")
	if err != nil {
		t.Fatal(err)
	}
	for xid, want := range map[uint32]bool{50: true, 100: true, 101: true, 102: false, 105: false, 109: true, 110: false, 200: false} {
		if got := s.sees(xid); got != want {
			t.Errorf("sees(%d) = %v, want %v", xid, got, want)
		}
	}
	// xid8 values carry the epoch in the high 32 bits; the stream's xids
	// wrap around, and compare modulo 2^32 as PostgreSQL does.
	wrapped, err := parseXidSnapshot("4294967290:4294967302:4294967300")
	if err != nil {
		t.Fatal(err)
	}
	for xid, want := range map[uint32]bool{math.MaxUint32 - 3: true, 3: true, 4: false, 5: true, 6: false, 7: false} {
		if got := wrapped.sees(xid); got != want {
			t.Errorf("across the wrap: sees(%d) = %v, want %v", xid, got, want)
		}
	}
	if empty, err := parseXidSnapshot("7:7:"); err != nil || !empty.sees(6) || empty.sees(7) {
		t.Errorf("7:7: = %+v, %v", empty, err)
	}
	for _, bad := range []string{"", "1:2", "a:2:", "1:b:", "1:2:x"} {
		if _, err := parseXidSnapshot(bad); err == nil {
			t.Errorf("parseXidSnapshot(%q) accepted", bad)
		}
	}
}

func TestParseWatermark(t *testing.T) {
	t.Parallel()
	msg := func(prefix, content string) *event.Change {
		return &event.Change{Op: event.OpMessage, Message: &event.LogicalMessage{Prefix: prefix, Content: []byte(content)}}
	}
	w, ok, err := parseWatermark(msg(WatermarkPrefix, `{"session":"ab","chunk":7,"table":"public.t","kind":"high"}`))
	if !ok || err != nil || w != (watermark{Session: "ab", Chunk: 7, Table: "public.t", Kind: watermarkHigh}) {
		t.Errorf("parseWatermark = %+v, %v, %v", w, ok, err)
	}
	if _, ok, _ := parseWatermark(msg("other", "{}")); ok {
		t.Error("a message with another prefix is a watermark")
	}
	if _, ok, _ := parseWatermark(&event.Change{Op: event.OpCreate}); ok {
		t.Error("a row change is a watermark")
	}
	if _, ok, err := parseWatermark(msg(WatermarkPrefix, "not json")); !ok || err == nil {
		t.Errorf("a malformed watermark: ok %v, err %v", ok, err)
	}
}

// FuzzParseXidSnapshot: whatever the text, parsing does not panic, and a
// parsed snapshot never sees a transaction it lists as in progress.
func FuzzParseXidSnapshot(f *testing.F) {
	for _, s := range []string{"100:110:102,105", "7:7:", "4294967290:4294967302:4294967300", "1:2", ":::", "1:2:,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		snap, err := parseXidSnapshot(s)
		if err != nil {
			return
		}
		for _, x := range snap.xip {
			if snap.sees(x) {
				t.Fatalf("%q: sees %d, which was in progress", s, x)
			}
		}
		if snap.sees(snap.xmax) {
			t.Fatalf("%q: sees xmax %d", s, snap.xmax)
		}
	})
}
