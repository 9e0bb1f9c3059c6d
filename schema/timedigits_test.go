package schema

import (
	"strconv"
	"testing"
	"time"
)

// TestTimeDigits: the three texts equal strconv's for instants after 1970
// (prefix path), before it and beyond int64 nanoseconds (separate path).
func TestTimeDigits(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 27, 2, 40, 1, 123456789, time.UTC),
		time.Unix(0, 1_000_000),
		time.Unix(0, 999_999),
		time.Date(1969, 12, 31, 23, 59, 59, 500, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		ms, us, ns := tm.UnixMilli(), tm.UnixMicro(), tm.UnixNano()
		var tmp [64]byte
		d := timeDigitsOf(tmp[:0], ms, us, ns)
		if string(d.ms) != strconv.FormatInt(ms, 10) || string(d.us) != strconv.FormatInt(us, 10) || string(d.ns) != strconv.FormatInt(ns, 10) {
			t.Errorf("%s: got %s %s %s, want %d %d %d", tm, d.ms, d.us, d.ns, ms, us, ns)
		}
	}
}

// FuzzTimeDigits: for any three values the texts are strconv's.
func FuzzTimeDigits(f *testing.F) {
	f.Add(int64(1_790_000_000_123_456_789))
	f.Add(int64(-1))
	f.Fuzz(func(t *testing.T, ns int64) {
		tm := time.Unix(0, ns)
		ms, us := tm.UnixMilli(), tm.UnixMicro()
		for _, v := range [][3]int64{{ms, us, ns}, {ms + 1, us, ns}, {ms, us - 1, ns}} {
			var tmp [64]byte
			d := timeDigitsOf(tmp[:0], v[0], v[1], v[2])
			if string(d.ms) != strconv.FormatInt(v[0], 10) || string(d.us) != strconv.FormatInt(v[1], 10) || string(d.ns) != strconv.FormatInt(v[2], 10) {
				t.Fatalf("%v: got %s %s %s", v, d.ms, d.us, d.ns)
			}
		}
	})
}
