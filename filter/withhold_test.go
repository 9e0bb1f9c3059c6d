package filter

import (
	"slices"
	"strings"
	"testing"
)

// A where expression that fails on a masked column's value must not quote
// the value in its error (the error is logged and shown by walrelay
// status); on a table without masked columns the full message stays.
func TestWhereErrorWithholdsMaskedValues(t *testing.T) {
	t.Parallel()
	card := rel("public.wcust", "id:int4*", "card:text")
	const src = `rules:
  - tables: [public.wcust]
    columns: {mask: [card]}
    where: 'op == "delete" || int(row.card) > 0'
  - tables: [public.plain]
    where: 'int(row.card) > 0'
`
	rs := mustParse(t, src, "salt")
	_, err := rs.Apply(ins(card, int32(2), "SECRETCARD-xyz"))
	if err == nil {
		t.Fatal("where on a text card: no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "SECRETCARD") {
		t.Errorf("error quotes the masked value: %s", msg)
	}
	for _, want := range []string{"public.wcust", "rules[0]", "int(row.card)", "1:19 (`int`)", "invalid operation", "withheld"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	plain := rel("public.plain", "id:int4*", "card:text")
	_, err = rs.Apply(ins(plain, int32(2), "VISIBLE-abc"))
	if err == nil || !strings.Contains(err.Error(), "int(VISIBLE-abc)") {
		t.Errorf("unmasked table: error %v, want the engine's full message", err)
	}
}

func TestHideKey(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "rules: [{tables: [public.m], columns: {mask: [email]}}, {tables: [public.p]}]", "salt")
	cases := []struct {
		table   string
		columns []string
		want    []string
	}{
		{"public.m", []string{"tenant", "email"}, []string{"7", MaskedText}},
		{"public.m", nil, []string{MaskedText, MaskedText}},
		{"public.p", nil, []string{"7", "a@b"}},
	}
	for _, c := range cases {
		if got := rs.HideKey(c.table, c.columns, []string{"7", "a@b"}); !slices.Equal(got, c.want) {
			t.Errorf("HideKey(%s, %v) = %v, want %v", c.table, c.columns, got, c.want)
		}
	}
	var none *Rules
	if got := none.HideKey("public.m", nil, []string{"x"}); !slices.Equal(got, []string{"x"}) {
		t.Errorf("no rules: %v", got)
	}
}

// A where expression that fails on an excluded column's value must not
// quote it either: the rule hides the column from Kafka.
func TestWhereErrorWithholdsExcludedValues(t *testing.T) {
	t.Parallel()
	notes := rel("public.wnotes", "id:int4*", "notes:text")
	const src = `rules:
  - tables: [public.wnotes]
    columns: {exclude: [notes]}
    where: 'int(row.notes) > 0'
`
	rs := mustParse(t, src, "")
	_, err := rs.Apply(ins(notes, int32(2), "SECRETNOTE-xyz"))
	if err == nil {
		t.Fatal("where on a text notes: no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "SECRETNOTE") {
		t.Errorf("error quotes the excluded value: %s", msg)
	}
	for _, want := range []string{"public.wnotes", "rules[0]", "invalid operation", "withheld", "excluded columns"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}
