package snapshot

import "testing"

// TestParseTableQuoted: a snapshot (or snapshot signal) of "x.y".z reads
// table z of schema x.y, not table y.z of schema x, and String prints a
// name ParseTable reads back as the same table.
func TestParseTableQuoted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Table
	}{
		{"public.orders", Table{"public", "orders"}},
		{`"x.y".z`, Table{"x.y", "z"}},
		{"x.y.z", Table{"x", "y.z"}},
		{`"Sales"."Orders"`, Table{"Sales", "Orders"}},
		{"my schema.my table", Table{"my schema", "my table"}},
	} {
		got, err := ParseTable(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseTable(%s) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		if back, err := ParseTable(got.String()); err != nil || back != got {
			t.Errorf("ParseTable(%s) = %+v, %v; want %+v", got.String(), back, err, got)
		}
	}
	if _, err := ParseTable(`"x.y"`); err == nil {
		t.Error(`ParseTable("x.y") took a name without a table`)
	}
}
