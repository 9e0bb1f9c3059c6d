package decoder

import (
	"math"
	"strconv"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// FuzzPoint: the point parser never panics, and a point it accepts prints
// back (as float8out would) to text it parses to the same coordinates.
func FuzzPoint(f *testing.F) {
	for _, s := range []string{"(1,2)", "(-1.5e+20,Infinity)", "(NaN,-0)", "( 1 , 2 )", "(1)", "1,2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := convPoint(src)
		if err != nil {
			return
		}
		p := v.(event.Point)
		text := "(" + strconv.FormatFloat(p.X, 'g', -1, 64) + "," + strconv.FormatFloat(p.Y, 'g', -1, 64) + ")"
		again, err := convPoint([]byte(text))
		if err != nil {
			t.Fatalf("%q parsed to %v; %q does not parse: %v", src, p, text, err)
		}
		q := again.(event.Point)
		if !sameFloat(p.X, q.X) || !sameFloat(p.Y, q.Y) {
			t.Fatalf("%q parsed to %v, %q to %v", src, p, text, q)
		}
	})
}

func sameFloat(a, b float64) bool {
	return a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b)
}
