package filter

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

var wide = rel("public.w", "id:int8*", "amount:numeric", "qty:int4", "status:text", "at:timestamptz",
	"day:date", "ts:timestamp", "tags:_text", "doc:jsonb", "price:float8")

// wideRow builds a row of wide.
func wideRow(id int64, amount event.Decimal, qty any, status any) []any {
	return []any{id, amount, qty, status, "2026-01-02T03:04:05.5Z", event.Date(20455), event.MicroTimestamp(1767323045000000),
		[]any{"a", "b"}, event.JSON(`{"k":1}`), 2.5}
}

func TestApplyWhere(t *testing.T) {
	t.Parallel()
	cases := []struct {
		where string
		ch    *event.Change
		want  bool
	}{
		{"row.amount > 100", ins(wide, wideRow(1, dec(10050, 2), int32(1), "new")...), true},
		{"row.amount > 100", ins(wide, wideRow(1, dec(10000, 2), int32(1), "new")...), false},
		{"row.amount >= 100 && row.qty < 5", ins(wide, wideRow(1, dec(100, 0), int32(4), "new")...), true},
		{"row.amount == 100.5", ins(wide, wideRow(1, dec(1005, 1), int32(4), "new")...), true},
		{"row.qty > 1", ins(wide, wideRow(1, dec(1, 0), nil, "new")...), false},  // NULL compares false
		{"row.qty <= 1", ins(wide, wideRow(1, dec(1, 0), nil, "new")...), false}, // both ways
		{"row.qty == nil", ins(wide, wideRow(1, dec(1, 0), nil, "new")...), true},
		{"(row.qty ?? 0) == 0", ins(wide, wideRow(1, dec(1, 0), nil, "new")...), true},
		{"row.status in ['new', 'paid']", ins(wide, wideRow(1, dec(1, 0), int32(1), "paid")...), true},
		{"row.status startsWith 'ne'", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"row.status matches '^p'", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), false},
		{"op == 'insert'", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"op == 'delete' && row.id == 7", del(wide, int64(7), event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{},
			event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}), true},
		{"row.status == nil", del(wide, int64(7), event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{},
			event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}, event.Absent{}), true}, // absent: not in the map
		{"before.status != after.status", upd(wide, wideRow(1, dec(1, 0), int32(1), "new"), wideRow(1, dec(1, 0), int32(1), "paid")), true},
		{"before == nil", upd(wide, nil, wideRow(1, dec(1, 0), int32(1), "paid")), true},
		{"row.at > date('2026-01-01')", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"row.day == date('2026-01-02')", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"row.ts < date('2026-01-02T03:04:06Z')", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"'b' in row.tags && len(row.tags) == 2", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{`row.doc contains '"k"'`, ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"row.price * 2 == 5", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"get(row, 'missing') == nil", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true}, // a column the table may lack, by choice
		{"row.amount > 0", trunc(wide), true}, // truncates carry no row: where does not apply
		// Dynamic uses of a row see every column (only static row.x uses narrow the conversion).
		{`row["sta" + "tus"] == "new"`, ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{"len(row) == 10", ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{`$env.row.status == "new"`, ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
		{`len(keys(after)) == 10 && row.id == 1`, ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...), true},
	}
	for _, c := range cases {
		src := "rules:\n  - tables: [public.w]\n    operations: [insert, update, delete, truncate]\n    where: " + quoteYAML(c.where) + "\n"
		rs := mustParse(t, src, "")
		d := mustApply(t, rs, c.ch)
		if got := d.Action == Keep; got != c.want {
			t.Errorf("where %q on %s: captured %v, want %v", c.where, c.ch.Op, got, c.want)
		}
	}
}

// TestApplyWhereFallThrough: a false where passes the change to the next
// rule naming the table (routing by content).
func TestApplyWhereFallThrough(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `
rules:
  - tables: [public.w]
    where: "row.amount > 1000"
    topic: big
  - tables: [public.w]
    topic: small
`, "")
	big := mustApply(t, rs, ins(wide, wideRow(1, dec(5000, 0), int32(1), "x")...))
	small := mustApply(t, rs, ins(wide, wideRow(2, dec(5, 0), int32(1), "x")...))
	if big.Topic != "big" || small.Topic != "small" {
		t.Errorf("topics %q and %q, want big and small", big.Topic, small.Topic)
	}
}

func TestApplyWhereRuntimeError(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, "rules: [{tables: [public.w], where: \"row.status > 3\"}]", "")
	_, err := rs.Apply(ins(wide, wideRow(1, dec(1, 0), int32(1), "new")...))
	if err == nil || !strings.Contains(err.Error(), "public.w") || !strings.Contains(err.Error(), "00000000016B3748-00000005") {
		t.Fatalf("error %v, want one naming the table and the event", err)
	}
}

func quoteYAML(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func TestWhereColumnUse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src    string
		static bool
		cols   string
	}{
		{"row.amount > 1 && before.status == after.status", true, "amount,status"},
		{`row["amount"] > 1 && op == "insert"`, true, "amount"},
		{"op == 'delete'", true, ""},
		{"all(row.tags, # != 'x')", true, "tags"},
		{"len(row) > 1", false, ""},
		{`row["a" + "b"] == 1`, false, ""},
		{"$env.row.a == 1", false, ""},
	}
	for _, c := range cases {
		p, err := compileWhere(c.src)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		set := map[string]bool{}
		static := p.needed(set)
		var cols []string
		for _, v := range []string{"amount", "status", "tags"} {
			if set[v] {
				cols = append(cols, v)
			}
		}
		if static != c.static || (static && strings.Join(cols, ",") != c.cols) {
			t.Errorf("%q: static %v columns %v, want %v %q", c.src, static, cols, c.static, c.cols)
		}
	}
}
