package pgident

import "testing"

func TestParse(t *testing.T) {
	cases := []struct{ in, schema, table string }{
		{"public.orders", "public", "orders"},
		{"public.Mixed Case", "public", "Mixed Case"},
		{"日本.日本", "日本", "日本"},
		{"public.a.b", "public", "a.b"}, // the first dot separates, as before
		{`"x.y".z`, "x.y", "z"},
		{`"x.y"."z"`, "x.y", "z"},
		{`x."y.z"`, "x", "y.z"},
		{`"Sales"."Orders"`, "Sales", "Orders"},
		{`"a""b".c`, `a"b`, "c"},
		{`s."""t"`, "s", `"t`},
		{`a"b.c"d`, `a"b`, `c"d`}, // a quote inside an unquoted part is literal
	}
	for _, c := range cases {
		s, tb, err := Parse(c.in)
		if err != nil || s != c.schema || tb != c.table {
			t.Errorf("Parse(%s) = %q, %q, %v; want %q, %q", c.in, s, tb, err, c.schema, c.table)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{"", "orders", ".orders", "public.", `"x.y"`, `"x.y"z`, `"x.y.z`, `"".t`, `s.""`, `s."t"x`, `s."t`} {
		if s, tb, err := Parse(in); err == nil {
			t.Errorf("Parse(%s) = %q, %q; want an error", in, s, tb)
		}
	}
}

// TestFormatRoundTrip: every name Format prints parses back to its parts,
// and ordinary names print as they always did.
func TestFormatRoundTrip(t *testing.T) {
	cases := []struct{ schema, table, want string }{
		{"public", "orders", "public.orders"},
		{"public", "Mixed Case", "public.Mixed Case"},
		{"public", "a.b", "public.a.b"},
		{"x.y", "z", `"x.y".z`},
		{`a"b`, "c", `a"b.c`},
		{`"a`, `"b`, `"""a"."""b"`},
		{"x.y", "y.z", `"x.y".y.z`},
	}
	for _, c := range cases {
		got := Format(c.schema, c.table)
		if got != c.want {
			t.Errorf("Format(%q, %q) = %s, want %s", c.schema, c.table, got, c.want)
		}
		if s, tb, err := Parse(got); err != nil || s != c.schema || tb != c.table {
			t.Errorf("Parse(Format(%q, %q)) = %q, %q, %v", c.schema, c.table, s, tb, err)
		}
	}
}

func TestSQL(t *testing.T) {
	if got := SQLName(`"x.y".Mixed Case`); got != `"x.y"."Mixed Case"` {
		t.Errorf("SQLName = %s", got)
	}
	if got := SQL(`a"b`, "t"); got != `"a""b"."t"` {
		t.Errorf("SQL = %s", got)
	}
}
