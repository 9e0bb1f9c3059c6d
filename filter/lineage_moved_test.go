package filter

import (
	"slices"
	"testing"
)

// movedOf (auditc8 D1, D2): which columns of a table known by its shape
// only may hold another column's values after a change while walrelay was
// stopped. PostgreSQL appends new columns and never reorders, so a name at
// its old place is taken as itself.
func TestMovedOf(t *testing.T) {
	t.Parallel()
	before := []string{"id int4", "v text", "secret text"}
	for _, c := range []struct {
		name    string
		after   []string
		suspect []string // nil: nothing moved
		holders []string
	}{
		{"retype", []string{"id int8", "v text", "secret text"}, nil, nil},
		{"column added", []string{"id int4", "v text", "secret text", "w int4"}, nil, nil},
		{"column dropped", []string{"id int4", "secret text"}, nil, nil},
		{"swap", []string{"id int4", "secret text", "v text"}, []string{"v", "secret"}, []string{"v", "secret"}},
		{"rename", []string{"id int4", "v text", "contact text"}, []string{"secret"}, []string{"contact"}},
		{"rename and re-add", []string{"id int4", "v text", "contact text", "secret text"}, []string{"secret"}, []string{"secret", "contact"}},
		{"drop and add", []string{"id int4", "secret text", "w int4"}, []string{"v", "secret"}, []string{"secret", "w"}},
	} {
		m := movedOf(StoppedChange{Before: before, After: c.after})
		switch {
		case c.suspect == nil && m != nil:
			t.Errorf("%s: moved %+v, want nothing", c.name, *m)
		case c.suspect != nil && (m == nil || !slices.Equal(m.Suspect, c.suspect) || !slices.Equal(m.Holders, c.holders)):
			t.Errorf("%s: moved %+v, want suspects %v held by %v", c.name, m, c.suspect, c.holders)
		}
	}
}
