package decoder

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"
)

// allTypesRelation is the Relation message of allTypesCols, parsed.
func allTypesRelation(t testing.TB) *pglogrepl.RelationMessage {
	t.Helper()
	m, err := pglogrepl.Parse(relMsg(allTypesOID, "public", "all", 'd', allTypesCols...))
	if err != nil {
		t.Fatalf("parse relation: %v", err)
	}
	return m.(*pglogrepl.RelationMessage)
}

// streamRow decodes values as the new tuple of an Insert through the stream
// decoder (nil = NULL).
func streamRow(t testing.TB, values [][]byte) ([]any, error) {
	t.Helper()
	d := New(Options{})
	tvs := make([]tv, len(values))
	for i, v := range values {
		if v == nil {
			tvs[i] = null
		} else {
			tvs[i] = txt(string(v))
		}
	}
	ctx := context.Background()
	for _, m := range [][]byte{relMsg(allTypesOID, "public", "all", 'd', allTypesCols...), beginMsg(10, 1, commitAt)} {
		if _, err := d.Decode(ctx, 1, m); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	res, err := d.Decode(ctx, 2, insertMsg(allTypesOID, tvs...))
	if err != nil {
		return nil, err
	}
	return res.Changes[0].After, nil
}

// seedValues is the text of allTypesSeedRow's insert, one value per column.
func seedValues() [][]byte {
	s := []string{"1", "2", "3", "1.5", "2.5", "1.250", "3.14", "$1.00", "x", `\x00ff`, "t", "2024-01-01",
		"01:02:03", "01:02:03+00", "2024-01-01 00:00:00", "2024-01-01 00:00:00+00", "1 day", `{"a":1}`,
		"{1,NULL}", `{"a b",c}`, "1", "10101", "11", "{(1,1),(0,0)}"}
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}

func TestRowDecoderMatchesStream(t *testing.T) {
	t.Parallel()
	rd, err := NewRowDecoder(context.Background(), Options{}, allTypesRelation(t))
	if err != nil {
		t.Fatal(err)
	}
	rel := rd.Relation()
	if rel.OID != allTypesOID || rel.QualifiedName() != "public.all" || rel.Version != 1 || len(rel.Columns) != len(allTypesCols) {
		t.Fatalf("relation %+v", rel)
	}
	if !rel.Columns[0].Key || rel.Columns[1].Key || rel.Columns[5].TypeName != "numeric" {
		t.Fatalf("columns %+v", rel.Columns[:6])
	}
	vals := seedValues()
	vals[2] = nil // a NULL
	got, err := rd.DecodeRow(vals)
	if err != nil {
		t.Fatal(err)
	}
	want, err := streamRow(t, vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d values, stream gave %d", len(got), len(want))
	}
	for i := range got {
		if !equalValue(got[i], want[i]) {
			t.Errorf("column %s: snapshot %#v, stream %#v", allTypesCols[i].name, got[i], want[i])
		}
	}
	if got[2] != nil {
		t.Errorf("NULL column decoded as %#v", got[2])
	}
}

func TestRowDecoderErrors(t *testing.T) {
	t.Parallel()
	rd, err := NewRowDecoder(context.Background(), Options{}, allTypesRelation(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.DecodeRow(seedValues()[:3]); err == nil || !strings.Contains(err.Error(), "public.all") {
		t.Errorf("short row: error %v, want one naming the table", err)
	}
	vals := seedValues()
	vals[2] = []byte("not a number")
	if _, err := rd.DecodeRow(vals); err == nil || !strings.Contains(err.Error(), `column "i4"`) {
		t.Errorf("bad int4: error %v, want one naming the column", err)
	}
}

// FuzzRowDecoder feeds arbitrary text to every column: DecodeRow must never
// panic, and must accept exactly what the stream decoder accepts, with the
// same values.
func FuzzRowDecoder(f *testing.F) {
	f.Add([]byte("1"), 3)
	f.Add([]byte("{1,NULL,3}"), 18)
	f.Add([]byte("1 year -2 mons"), 16)
	f.Add([]byte(`\x0f`), 9)
	rd, err := NewRowDecoder(context.Background(), Options{}, allTypesRelation(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte, col int) {
		if col < 0 {
			col = -col
		}
		col %= len(allTypesCols)
		vals := seedValues()
		vals[col] = src
		got, gerr := rd.DecodeRow(vals)
		want, werr := streamRow(t, vals)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("column %d %q: snapshot error %v, stream error %v", col, src, gerr, werr)
		}
		if gerr == nil && !equalValue(got[col], want[col]) && !reflect.DeepEqual(got[col], want[col]) {
			t.Fatalf("column %d %q: snapshot %#v, stream %#v", col, src, got[col], want[col])
		}
	})
}
