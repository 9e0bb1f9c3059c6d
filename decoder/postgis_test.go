package decoder

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

func TestEWKB(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in string
		srid     int32
		geog     bool
	}{
		// SRID=4326;POINT(1 2), little-endian with the SRID flag
		{"point 4326", "0101000020E6100000000000000000F03F0000000000000040", 4326, false},
		// POINT(1 2) without an SRID
		{"no srid", "0101000000000000000000F03F0000000000000040", 0, false},
		// big-endian, SRID 3857
		{"big-endian", "002000000100000F113FF00000000000004000000000000000", 3857, true},
		{"empty collection", "010700000000000000", 0, false},
	} {
		conv := convGeometry
		if c.geog {
			conv = convGeography
		}
		v, err := conv([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		g := v.(event.Geometry)
		want, _ := hex.DecodeString(c.in)
		if !bytes.Equal(g.WKB, want) || g.SRID != c.srid || g.HasSRID != (c.srid != 0) || g.Geography != c.geog {
			t.Errorf("%s: got %+v, want WKB %x SRID %d geography %v", c.name, g, want, c.srid, c.geog)
		}
	}
	for _, bad := range []string{"", "0101", "ZZ01000000000000000000", "01010000000000000000F03F0"} {
		if v, err := convGeometry([]byte(bad)); err == nil {
			t.Errorf("convGeometry(%q) = %+v, want an error", bad, v)
		}
	}
}

// FuzzEWKB: the EWKB reader never panics and keeps the bytes it accepts.
func FuzzEWKB(f *testing.F) {
	f.Add([]byte("0101000020E6100000000000000000F03F0000000000000040"))
	f.Add([]byte("010700000000000000"))
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := convGeometry(src)
		if err != nil {
			return
		}
		if got := strings.ToUpper(hex.EncodeToString(v.(event.Geometry).WKB)); got != strings.ToUpper(string(src)) {
			t.Fatalf("%q kept as %s", src, got)
		}
	})
}
