package decoder

import (
	"bytes"
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// allTypesOID is a relation with one column of every converter kind.
const allTypesOID = 16999

var allTypesCols = []wcol{
	{1, "id", pgtype.Int8OID, -1}, {0, "i2", pgtype.Int2OID, -1}, {0, "i4", pgtype.Int4OID, -1},
	{0, "f4", pgtype.Float4OID, -1}, {0, "f8", pgtype.Float8OID, -1}, {0, "n", pgtype.NumericOID, numericTypmod(10, 3)},
	{0, "nf", pgtype.NumericOID, -1}, {0, "m", moneyOID, -1}, {0, "t", pgtype.TextOID, -1},
	{0, "b", pgtype.ByteaOID, -1}, {0, "bo", pgtype.BoolOID, -1}, {0, "d", pgtype.DateOID, -1},
	{0, "tm", pgtype.TimeOID, -1}, {0, "ttz", pgtype.TimetzOID, -1}, {0, "ts", pgtype.TimestampOID, -1},
	{0, "tstz", pgtype.TimestamptzOID, -1}, {0, "iv", pgtype.IntervalOID, -1}, {0, "j", pgtype.JSONBOID, -1},
	{0, "ia", pgtype.Int4ArrayOID, -1}, {0, "ta", pgtype.TextArrayOID, -1}, {0, "b1", pgtype.BitOID, 1},
	{0, "b5", pgtype.BitOID, 5}, {0, "vb", pgtype.VarbitOID, -1}, {0, "ba", pgtype.BoxArrayOID, -1},
}

func allTypesSeedRow() [][]byte {
	return [][]byte{
		insertMsg(allTypesOID, txt("1"), txt("2"), txt("3"), txt("1.5"), txt("2.5"), txt("1.250"), txt("3.14"),
			txt("$1.00"), txt("x"), txt(`\x00ff`), txt("t"), txt("2024-01-01"), txt("01:02:03"), txt("01:02:03+00"),
			txt("2024-01-01 00:00:00"), txt("2024-01-01 00:00:00+00"), txt("1 day"), txt(`{"a":1}`), txt("{1,NULL}"),
			txt(`{"a b",c}`), txt("1"), txt("10101"), txt("11"), txt("{(1,1),(0,0)}")),
		updateMsg(allTypesOID, 'K', []tv{txt("1"), null}, []tv{txt("2"), toast}),
		deleteMsg(allTypesOID, 'O', txt("1")),
		truncateMsg(0, allTypesOID),
		logicalMsg(true, 9, "p", []byte("c")),
		commitMsg(1, 2, commitAt),
		relMsg(allTypesOID, "public", "all", 'f', allTypesCols[:2]...),
		typeMsg(1, "a", "b"),
		originMsg(1, "o"),
		{'S', 0},
		{},
	}
}

// FuzzDecode feeds arbitrary bytes to Decode after a valid Relation and
// Begin: Decode must return a result or an error, never panic.
func FuzzDecode(f *testing.F) {
	for _, m := range allTypesSeedRow() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := New(Options{})
		ctx := context.Background()
		if _, err := d.Decode(ctx, 1, relMsg(allTypesOID, "public", "all", 'd', allTypesCols...)); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Decode(ctx, 2, beginMsg(1, 1, commitAt)); err != nil {
			t.Fatal(err)
		}
		r, err := d.Decode(ctx, 3, data)
		if err == nil && r.Kind == KindChanges && len(r.Changes) == 0 && data[0] != 'T' {
			t.Fatalf("KindChanges without changes for %q", data)
		}
	})
}

// FuzzFrame checks that every message checkFrame accepts is safe to hand to
// pglogrepl.Parse (called here without any recover).
func FuzzFrame(f *testing.F) {
	for _, m := range allTypesSeedRow() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkFrame(data) != nil {
			return
		}
		if _, err := pglogrepl.Parse(data); err != nil && data[0] != 'I' && data[0] != 'T' {
			// pglogrepl rejects only a few short-but-valid forms (an
			// insert of zero columns, a truncate of zero relations).
			t.Logf("pglogrepl rejected an accepted frame %q: %v", data, err)
		}
	})
}

// FuzzArray parses arbitrary array literals (no panics) and checks that a
// literal built from arbitrary strings parses back to them.
func FuzzArray(f *testing.F) {
	f.Add([]byte(`{1,2,{3,"a\"b"},NULL}`), "a\x00b,c\x00NULL")
	f.Add([]byte(`[1:2]={x,y}`), `\"{}`)
	f.Fuzz(func(t *testing.T, literal []byte, joined string) {
		_, _ = parseArray(literal, ',', convString)
		_, _ = parseArray(literal, ';', convInt32)

		elems := strings.Split(joined, "\x00")
		var b strings.Builder
		b.WriteByte('{')
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			for _, c := range []byte(e) {
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
			b.WriteByte('"')
		}
		b.WriteByte('}')
		got, err := parseArray([]byte(b.String()), ',', convString)
		if err != nil {
			t.Fatalf("parse %q: %v", b.String(), err)
		}
		if len(got) != len(elems) {
			t.Fatalf("parse %q: %d elements, want %d", b.String(), len(got), len(elems))
		}
		for i := range elems {
			if got[i] != elems[i] {
				t.Fatalf("parse %q: element %d = %q, want %q", b.String(), i, got[i], elems[i])
			}
		}
	})
}

// FuzzNumeric checks that whatever parseDecimal accepts has exactly the
// value big.Rat reads from the same text, and that nothing panics.
func FuzzNumeric(f *testing.F) {
	for _, s := range []string{"1.50", "-0.001", "NaN", "123456789012345678901234567890.5", "1.", ".5", "--1", "1e3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _ = convMoney(src)
		v, err := parseDecimal(src, -1)
		if err != nil {
			return
		}
		d := v.(event.Decimal)
		if d.Special != "" {
			return
		}
		want, ok := new(big.Rat).SetString(string(src))
		if !ok {
			t.Fatalf("decoder accepted %q, big.Rat did not", src)
		}
		got := new(big.Rat).SetFrac(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
		if got.Cmp(want) != 0 {
			t.Fatalf("%q decoded as %s, want %s", src, got.RatString(), want.RatString())
		}
		if frac := bytes.IndexByte(src, '.'); frac >= 0 && int(d.Scale) != len(src)-frac-1 {
			t.Fatalf("%q has scale %d", src, d.Scale)
		}
	})
}

// FuzzTupleValue runs every scalar converter on arbitrary text: an error is
// fine, a panic is not.
func FuzzTupleValue(f *testing.F) {
	for _, s := range []string{"1", "2024-01-01 00:00:00+05:30 BC", "1 year -2 mons 03:00:00.5", `\x0f`, "101", "$-1.00", "24:00:00-01"} {
		f.Add([]byte(s))
	}
	var convs []convertFunc
	for _, c := range allTypesCols {
		td, _ := New(Options{}).builtin(c.oid)
		if td.kind == event.KindArray {
			convs = append(convs, arrayConverter(conv(td.elem, c.typmod), arrayDelimiter(td.elem)))
			continue
		}
		convs = append(convs, scalarConverter(td, c.typmod))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, c := range convs {
			_, _ = c(src)
		}
	})
}

// FuzzRowMatchesPglogrepl cross-checks the in-place Insert/Update/Delete
// reader against pglogrepl.Parse: whatever rowMsg.parse accepts, pglogrepl
// decodes to the same relation, tuple kinds and bytes.
func FuzzRowMatchesPglogrepl(f *testing.F) {
	for _, m := range allTypesSeedRow()[:3] {
		f.Add(m)
	}
	f.Add(updateMsg(7, 'O', []tv{txt("a"), toast}, []tv{null, tv{'b', "\x01"}}))
	f.Add(updateMsg(7, 0, nil, []tv{txt("")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || (data[0] != 'I' && data[0] != 'U' && data[0] != 'D') {
			return
		}
		var m rowMsg
		if m.parse(data) != nil {
			return
		}
		msg, err := pglogrepl.Parse(data)
		if err != nil {
			if data[0] == 'I' && len(m.new) == 0 {
				return // pglogrepl wants at least 8 bytes, a zero-column insert has 7
			}
			t.Fatalf("pglogrepl rejected %q: %v", data, err)
		}
		var oid uint32
		var oldKind byte
		var old, new *pglogrepl.TupleData
		switch p := msg.(type) {
		case *pglogrepl.InsertMessage:
			oid, new = p.RelationID, p.Tuple
		case *pglogrepl.UpdateMessage:
			oid, oldKind, old, new = p.RelationID, p.OldTupleType, p.OldTuple, p.NewTuple
		case *pglogrepl.DeleteMessage:
			oid, oldKind, old = p.RelationID, p.OldTupleType, p.OldTuple
		}
		if oid != m.relOID || oldKind != m.oldKind {
			t.Fatalf("%q: oid/old kind %d/%q vs pglogrepl %d/%q", data, m.relOID, m.oldKind, oid, oldKind)
		}
		sameTuple(t, "old", m.old, old)
		sameTuple(t, "new", m.new, new)
	})
}

func sameTuple(t *testing.T, what string, got []tupleCol, want *pglogrepl.TupleData) {
	t.Helper()
	if want == nil {
		if len(got) != 0 {
			t.Fatalf("%s tuple: %d columns, pglogrepl none", what, len(got))
		}
		return
	}
	if len(got) != len(want.Columns) {
		t.Fatalf("%s tuple: %d columns, pglogrepl %d", what, len(got), len(want.Columns))
	}
	for i, c := range want.Columns {
		if got[i].kind != c.DataType || !bytes.Equal(got[i].data, c.Data) {
			t.Fatalf("%s column %d: %q %q, pglogrepl %q %q", what, i, got[i].kind, got[i].data, c.DataType, c.Data)
		}
	}
}
