package schema

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

func evoRel(oid uint32, version int, cols ...event.Column) *event.Relation {
	return &event.Relation{OID: oid, Schema: "public", Table: "evo", ReplicaIdentity: event.IdentityDefault,
		Version: version, Columns: cols}
}

var (
	evoID  = event.Column{Name: "id", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true}
	evoA   = event.Column{Name: "a", TypeOID: 23, TypeName: "int4", TypeMod: -1}
	evoB   = event.Column{Name: "b", TypeOID: 25, TypeName: "text", TypeMod: -1}
	evoC4  = event.Column{Name: "c", TypeOID: 23, TypeName: "int4", TypeMod: -1}
	evoC8  = event.Column{Name: "c", TypeOID: 20, TypeName: "int8", TypeMod: -1}
	evoCT  = event.Column{Name: "c", TypeOID: 25, TypeName: "text", TypeMod: -1}
	evoV10 = event.Column{Name: "v", TypeOID: 1043, TypeName: "varchar", TypeMod: 14}
	evoV20 = event.Column{Name: "v", TypeOID: 1043, TypeName: "varchar", TypeMod: 24}
)

// sampleRow returns a row for rel with a value of the right Go type per column.
func sampleRow(rel *event.Relation) []any {
	row := make([]any, len(rel.Columns))
	for i, c := range rel.Columns {
		switch c.TypeOID {
		case 23:
			row[i] = int32(i + 1)
		case 20:
			row[i] = int64(i + 1)
		default:
			row[i] = "s"
		}
	}
	return row
}

// encodeIDs encodes an insert of rel and returns the key and value schema IDs.
func encodeIDs(t *testing.T, enc *AvroEncoder, rel *event.Relation) (key, value uint32, err error) {
	t.Helper()
	recs, err := enc.Encode(change(event.OpCreate, rel, nil, sampleRow(rel)))
	if err != nil {
		return 0, 0, err
	}
	key, _, _ = ParseWire(recs[0].Key)
	value, _, _ = ParseWire(recs[0].Value)
	return key, value, nil
}

// TestAvroEvolution: ADD COLUMN, DROP COLUMN and a wider type each register
// a new value version whose ID the following records carry, with the key
// schema unchanged; a narrowing type change is refused with the table,
// column and change named and the fix; once the subject allows it, the same
// change goes through.
func TestAvroEvolution(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	steps := []*event.Relation{
		evoRel(100, 1, evoID, evoA, evoC4),
		evoRel(100, 2, evoID, evoA, evoC4, evoB), // ADD COLUMN b
		evoRel(100, 3, evoID, evoC4, evoB),       // DROP COLUMN a
		evoRel(100, 4, evoID, evoC8, evoB),       // c int4 -> int8
	}
	var keyIDs, valueIDs []uint32
	for i, rel := range steps {
		k, v, err := encodeIDs(t, ta.enc, rel)
		if err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
		keyIDs, valueIDs = append(keyIDs, k), append(valueIDs, v)
		// A second change of the same version uses the cached plan.
		if _, v2, err := encodeIDs(t, ta.enc, rel); err != nil || v2 != v {
			t.Fatalf("step %d again: value id %d (first %d), %v", i+1, v2, v, err)
		}
	}
	for i := 1; i < len(steps); i++ {
		if keyIDs[i] != keyIDs[0] || valueIDs[i] <= valueIDs[i-1] {
			t.Errorf("step %d: key id %d (first %d), value id %d (previous %d)", i+1, keyIDs[i], keyIDs[0], valueIDs[i], valueIDs[i-1])
		}
	}
	versions, _ := ta.store.Versions("app.public.evo-value")
	if !reflect.DeepEqual(versions, []int{1, 2, 3, 4}) {
		t.Errorf("value versions %v", versions)
	}

	bad := evoRel(100, 5, evoID, evoCT, evoB) // c int8 -> text
	_, _, err := encodeIDs(t, ta.enc, bad)
	var ice *IncompatibleChangeError
	if !errors.As(err, &ice) {
		t.Fatalf("narrowing change: error %v, want *IncompatibleChangeError", err)
	}
	if len(ice.Changes) != 1 || ice.Changes[0].Column != "c" || ice.Changes[0].Change != registry.ChangeType ||
		!strings.HasPrefix(ice.Changes[0].Old, "int8 (Avro") || !strings.HasPrefix(ice.Changes[0].New, "text (Avro") {
		t.Errorf("changes %+v", ice.Changes)
	}
	msg := err.Error()
	for _, want := range []string{"public.evo", `column "c" changed type from int8`, "to text", "BACKWARD",
		`"app.public.evo-value"`, "version 4", "curl -X PUT", "http://registry.test:8081/config/app.public.evo-value",
		"compatibility: NONE", "nothing is lost"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error message lacks %q:\n%s", want, msg)
		}
	}
	if versions, _ := ta.store.Versions("app.public.evo-value"); len(versions) != 4 {
		t.Errorf("an incompatible schema was registered: versions %v", versions)
	}

	if err := ta.store.SetSubjectLevel("app.public.evo-value", registry.None); err != nil {
		t.Fatal(err)
	}
	_, v, err := encodeIDs(t, ta.enc, bad)
	if err != nil || v <= valueIDs[3] {
		t.Fatalf("after compatibility NONE: value id %d, %v", v, err)
	}
}

// TestAvroKeyChange: adding a primary-key column changes the key schema
// incompatibly under BACKWARD and says so.
func TestAvroKeyChange(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	if _, _, err := encodeIDs(t, ta.enc, evoRel(200, 1, evoID, evoA)); err != nil {
		t.Fatal(err)
	}
	keyA := evoA
	keyA.Key = true
	_, _, err := encodeIDs(t, ta.enc, evoRel(200, 2, evoID, keyA))
	var ice *IncompatibleChangeError
	if !errors.As(err, &ice) || !ice.Key || len(ice.Changes) != 1 || ice.Changes[0].Column != "a" ||
		ice.Changes[0].Change != registry.ChangeAdded {
		t.Fatalf("error %v (%+v), want an incompatible key change adding column a", err, ice)
	}
	if !strings.Contains(err.Error(), "key schema") || !strings.Contains(err.Error(), "app.public.evo-key") {
		t.Errorf("message: %s", err)
	}
}

// TestAvroLevels: FULL refuses widening int4 -> int8 (old readers cannot
// read long); FORWARD accepts dropping an optional column.
func TestAvroLevels(t *testing.T) {
	t.Parallel()
	full := newTestAvro(t, registry.Full)
	if _, _, err := encodeIDs(t, full.enc, evoRel(300, 1, evoID, evoC4)); err != nil {
		t.Fatal(err)
	}
	_, _, err := encodeIDs(t, full.enc, evoRel(300, 2, evoID, evoC8))
	if !strings.Contains(fmt.Sprint(err), "is FULL and this breaks") || !strings.Contains(fmt.Sprint(err), "on either") {
		t.Errorf("FULL widening: %v", err)
	}
	fwd := newTestAvro(t, registry.Forward)
	if _, _, err := encodeIDs(t, fwd.enc, evoRel(300, 1, evoID, evoA, evoB)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := encodeIDs(t, fwd.enc, evoRel(300, 2, evoID, evoB)); err != nil {
		t.Errorf("FORWARD drop of an optional column: %v", err)
	}
}

// TestAvroSameSchema: a relation version whose Avro schema does not change
// (varchar(10) -> varchar(20)) keeps the schema ID and adds no version.
func TestAvroSameSchema(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	_, v1, err := encodeIDs(t, ta.enc, evoRel(400, 1, evoID, evoV10))
	if err != nil {
		t.Fatal(err)
	}
	_, v2, err := encodeIDs(t, ta.enc, evoRel(400, 2, evoID, evoV20))
	if err != nil || v2 != v1 {
		t.Fatalf("value id %d then %d (%v), want the same", v1, v2, err)
	}
	if versions, _ := ta.store.Versions("app.public.evo-value"); len(versions) != 1 {
		t.Errorf("versions %v", versions)
	}
}

// TestAvroDropCreate: DROP TABLE + CREATE TABLE under the same name (a new
// OID) gets its own plan; a compatible definition becomes the subject's
// next version, an incompatible one is refused.
func TestAvroDropCreate(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	_, v1, err := encodeIDs(t, ta.enc, evoRel(500, 1, evoID, evoA))
	if err != nil {
		t.Fatal(err)
	}
	_, v2, err := encodeIDs(t, ta.enc, evoRel(501, 1, evoID, evoA, evoB))
	if err != nil || v2 == v1 {
		t.Fatalf("recreated table: value id %d (old %d), %v", v2, v1, err)
	}
	// The old OID's plan is untouched.
	if _, v, err := encodeIDs(t, ta.enc, evoRel(500, 1, evoID, evoA)); err != nil || v != v1 {
		t.Errorf("old relation: value id %d, want %d (%v)", v, v1, err)
	}
	aText := evoA
	aText.TypeOID, aText.TypeName = 25, "text"
	if _, _, err := encodeIDs(t, ta.enc, evoRel(502, 1, evoID, aText, evoB)); err == nil {
		t.Errorf("recreated table with a incompatible: no error")
	}
}
