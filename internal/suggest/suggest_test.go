package suggest

import "testing"

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"", "abc", 3}, {"kafka", "kafak", 1}, {"brokers", "borkers", 1},
		{"slot", "slto", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {string(make([]byte, 65)), "a", 64},
		{"prefx", "prefix", 1}, {"brokers", "bokers", 1}, {"abc", "xyz", 3}, {"ca", "abc", 3},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", c.b, c.a, got, c.want)
		}
	}
}
