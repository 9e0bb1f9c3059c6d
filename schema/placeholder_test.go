package schema

import (
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// TestPlaceholderJSON: an unchanged TOAST value is the placeholder where the
// column's type can hold it, and null where it cannot (numeric, PostGIS), as
// Debezium Server 3.6.1 writes them (found by e2e/parity) and as in Avro.
func TestPlaceholderJSON(t *testing.T) {
	t.Parallel()
	u := event.Unavailable{}
	cases := []modeCase{
		{col: avroCol("t", pgtype.TextOID, "text", -1), val: u, json: `"__debezium_unavailable_value"`},
		{col: avroCol("b", pgtype.ByteaOID, "bytea", -1), val: u, json: `"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ=="`},
		{col: avroCol("n", pgtype.NumericOID, "numeric", -1), val: u, json: `null`},
		{col: event.Column{Name: "g", TypeOID: 17001, TypeName: "geometry", TypeMod: -1, Kind: event.KindOther}, val: u, json: `null`},
		{col: arrCol("ta", pgtype.TextArrayOID, pgtype.TextOID, "_text", -1), val: u, json: `["__debezium_unavailable_value"]`},
	}
	rel, row := modesRel(cases)
	var v struct{ After map[string]json.RawMessage }
	if err := json.Unmarshal(mustEncode(t, NewJSON(testOptions()), change(event.OpUpdate, rel, nil, row))[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if got := string(v.After[c.col.Name]); got != c.json {
			t.Errorf("%s: %s, want %s", c.col.TypeName, got, c.json)
		}
	}
	o := testOptions()
	o.DecimalMode = DecimalString // a string can hold it
	if err := json.Unmarshal(mustEncode(t, NewJSON(o), change(event.OpUpdate, rel, nil, row))[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	if got := string(v.After["n"]); got != `"__debezium_unavailable_value"` {
		t.Errorf("numeric in string mode: %s, want the placeholder", got)
	}
}
