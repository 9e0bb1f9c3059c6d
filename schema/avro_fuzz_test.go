package schema

import (
	"bytes"
	"math"
	"math/big"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// FuzzParseWire: ParseWire never panics; what it accepts re-frames to the
// same bytes, and what AppendWire frames parses back.
func FuzzParseWire(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 2, 4})
	f.Add([]byte{1, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := ParseWire(b)
		if err != nil {
			if len(b) >= wireHeaderLen && b[0] == 0 {
				t.Fatalf("rejected a well-formed header: %x: %v", b, err)
			}
			return
		}
		if again := AppendWire(nil, id, payload); !bytes.Equal(again, b) {
			t.Fatalf("re-framed %x as %x", b, again)
		}
		id2, p2, err := ParseWire(AppendWire(nil, id^0xA5A5A5A5, b))
		if err != nil || id2 != id^0xA5A5A5A5 || !bytes.Equal(p2, b) {
			t.Fatalf("AppendWire round trip: %d %x %v", id2, p2, err)
		}
	})
}

// fuzzRel is the relation FuzzAvroRoundTrip encodes rows of.
func fuzzRel() *event.Relation {
	return &event.Relation{OID: 40000, Schema: "public", Table: "fuzz", Version: 1, Columns: []event.Column{
		{Name: "id", TypeOID: 20, TypeName: "int8", TypeMod: -1, Key: true},
		{Name: "note", TypeOID: 25, TypeName: "text", TypeMod: -1},
		{Name: "raw", TypeOID: 17, TypeName: "bytea", TypeMod: -1},
		{Name: "f", TypeOID: 701, TypeName: "float8", TypeMod: -1},
		{Name: "price", TypeOID: 1700, TypeName: "numeric", TypeMod: numericTypmodOf(30, 4)},
		{Name: "n", TypeOID: 1700, TypeName: "numeric", TypeMod: -1},
		arrCol("ints", 1007, 23, "_int4", -1),
		{Name: "small", TypeOID: 21, TypeName: "int2", TypeMod: -1},
	}}
}

// FuzzAvroRoundTrip: whatever row walrelay encodes decodes, through the
// schema registered for it, to the same values.
func FuzzAvroRoundTrip(f *testing.F) {
	ta := newTestAvro(f, registry.Backward)
	rel := fuzzRel()
	f.Add(int64(1), "note", []byte{0}, 1.5, int64(12345), int64(-7), uint8(3), []byte{1, 2, 3}, int16(-1), true)
	f.Add(int64(math.MinInt64), "", []byte(nil), math.Inf(-1), int64(math.MaxInt64), int64(math.MinInt64), uint8(40), []byte{}, int16(math.MaxInt16), false)
	f.Fuzz(func(t *testing.T, id int64, note string, raw []byte, fl float64, price, n int64, nScale uint8, ints []byte, small int16, nulls bool) {
		arr := make([]any, len(ints))
		for i, b := range ints {
			if b == 0 {
				arr[i] = nil
			} else {
				arr[i] = int32(int8(b))
			}
		}
		row := []any{id, note, raw, fl, event.Decimal{Unscaled: big.NewInt(price), Scale: 4},
			event.Decimal{Unscaled: big.NewInt(n), Scale: int32(nScale)}, arr, small}
		if nulls {
			for i := 1; i < len(row); i += 2 {
				row[i] = nil
			}
		}
		recs, err := ta.enc.Encode(change(event.OpUpdate, rel, row, row))
		if err != nil {
			t.Fatalf("encode %v: %v", row, err)
		}
		_, key := ta.decodeWire(t, recs[0].Key)
		if key["id"] != id {
			t.Fatalf("key id %v, want %d", key["id"], id)
		}
		v := ta.decodeValue(t, recs[0].Value)
		for _, img := range []string{"before", "after"} {
			checkFuzzRow(t, v[img].(map[string]any), row)
		}
	})
}

func checkFuzzRow(t *testing.T, got map[string]any, row []any) {
	t.Helper()
	want := map[string]any{"id": row[0], "note": row[1], "raw": row[2], "f": row[3], "small": nil}
	if row[7] != nil {
		want["small"] = int(row[7].(int16))
	}
	if want["raw"] != nil && len(row[2].([]byte)) == 0 {
		want["raw"] = []byte{}
	}
	for k, w := range want {
		if w == nil {
			if got[k] != nil {
				t.Fatalf("%s = %#v, want null", k, got[k])
			}
			continue
		}
		if !sameDecoded(got[k], w) {
			t.Fatalf("%s = %#v, want %#v", k, got[k], w)
		}
	}
	if d, ok := row[4].(event.Decimal); ok {
		r, ok := got["price"].(*big.Rat)
		if !ok || r.Cmp(new(big.Rat).SetFrac(d.Unscaled, big.NewInt(10000))) != 0 {
			t.Fatalf("price = %v, want %s", got["price"], d)
		}
	}
	if d, ok := row[5].(event.Decimal); ok {
		d = stripTrailingZeros(d) // as Debezium writes a VariableScaleDecimal
		m := got["n"].(map[string]any)
		if m["scale"] != int(d.Scale) || !bytes.Equal(m["value"].([]byte), appendBigBytes(nil, d.Unscaled)) {
			t.Fatalf("n = %#v, want %s", m, d)
		}
	}
	if a, ok := row[6].([]any); ok {
		want := make([]any, len(a))
		for i, e := range a {
			if e != nil {
				want[i] = int(e.(int32))
			}
		}
		if !sameDecoded(got["ints"], want) {
			t.Fatalf("ints = %#v, want %#v", got["ints"], want)
		}
	}
}
