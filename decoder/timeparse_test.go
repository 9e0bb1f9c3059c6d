package decoder

import (
	"fmt"
	"testing"
)

// TestAppendPadded checks the digit-by-digit path against fmt's zero
// padding at every width it takes, at the values around its limits, and
// that values wider than width still print whole (strconv's path).
func TestAppendPadded(t *testing.T) {
	values := []int64{0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 123456, 999999,
		1000000, 5874897, 99999999, 999999999, 1000000000, 1 << 40}
	for width := 0; width <= 10; width++ {
		for _, v := range values {
			want := fmt.Sprintf("x%0*d", width, v)
			if got := string(appendPadded([]byte("x"), v, width)); got != want {
				t.Errorf("appendPadded(%d, %d) = %q, want %q", v, width, got, want)
			}
		}
	}
}
