package schema

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// prior builds priorFields from "name=column" pairs ("name" alone: the
// field carries the column of its name).
func prior(legacy bool, pairs ...string) priorFields {
	pf := priorFields{legacy: legacy}
	for _, p := range pairs {
		name, col, ok := strings.Cut(p, "=")
		if !ok {
			col = name
		}
		pf.fields = append(pf.fields, priorField{name: name, column: col})
	}
	return pf
}

// TestFieldNamesStable: a column keeps the field name the previous schema
// gave it; a new column never takes a name the previous schema uses, kept
// or not; names read from a schema registered before columns were recorded
// (legacy) are recovered.
func TestFieldNamesStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cols  []string
		prior priorFields
		want  []string
	}{
		{"new subject, exact names first", []string{"id", "x-y", "x_y"}, priorFields{},
			[]string{"id", "x_y_2", "x_y"}},
		{"audit: ADD COLUMN x_y after x-y", []string{"id", "x-y", "x_y"}, prior(false, "id", "x_y=x-y"),
			[]string{"id", "x_y", "x_y_2"}},
		{"restart: the same version again", []string{"id", "x-y", "x_y"}, prior(false, "id", "x_y=x-y", "x_y_2=x_y"),
			[]string{"id", "x_y", "x_y_2"}},
		{"column order does not matter", []string{"x_y", "id", "x-y"}, prior(false, "id", "x_y=x-y", "x_y_2=x_y"),
			[]string{"x_y_2", "id", "x_y"}},
		{"DROP x-y and ADD x.y in one step: x_y stays retired", []string{"id", "x_y", "x.y"},
			prior(false, "id", "x_y=x-y", "x_y_2=x_y"), []string{"id", "x_y_2", "x_y_3"}},
		{"a step after the DROP: x_y is free again", []string{"id", "x_y", "x.y"},
			prior(false, "id", "x_y_2=x_y"), []string{"id", "x_y_2", "x_y"}},
		{"DROP and ADD of the same column name keeps its field", []string{"id", "x-y"},
			prior(false, "id", "x_y=x-y", "x_y_2=x_y"), []string{"id", "x_y"}},
		{"exact new name taken by a kept column", []string{"id", "a-b", "a_b", "a_b_2"},
			prior(false, "id", "a_b=a-b"), []string{"id", "a_b", "a_b_3", "a_b_2"}},
		{"legacy: sanitised field recovered", []string{"id", "x-y", "n"}, prior(true, "id", "x_y"),
			[]string{"id", "x_y", "n"}},
		{"legacy: suffixed field recovered", []string{"id", "x-y", "x_y"}, prior(true, "id", "x_y_2", "x_y"),
			[]string{"id", "x_y_2", "x_y"}},
		{"legacy: exact name wins over sanitised", []string{"id", "x-y", "x_y"}, prior(true, "id", "x_y"),
			[]string{"id", "x_y_2", "x_y"}},
		{"legacy: x_y_02 is no suffix", []string{"id", "x-y"}, prior(true, "id", "x_y_02"),
			[]string{"id", "x_y"}},
		{"recorded schema: a field without pg.column is its own column's", []string{"id", "a-b", "x-y"},
			prior(false, "id", "a_b=a-b", "x_y"), []string{"id", "a_b", "x_y_2"}},
	} {
		if got := fieldNames(tc.cols, tc.prior); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fieldNames(%q) = %q, want %q", tc.name, tc.cols, got, tc.want)
		}
	}
}

// TestPriorFromSchema: the Value fields of a registered Envelope, with the
// recorded columns; a schema without any pg.column is legacy; a schema that
// is no Envelope has no fields to keep.
func TestPriorFromSchema(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	rel := xyRel(1, colXY, colX_Y)
	p := ta.enc.buildPlan(rel, "app.public.t", priorFields{})
	pf, err := priorFromSchema(registry.Registered{Text: p.valueSchema})
	if err != nil {
		t.Fatal(err)
	}
	if want := prior(false, "id", "x_y_2=x-y", "x_y"); !reflect.DeepEqual(pf, want) {
		t.Errorf("prior = %+v, want %+v", pf, want)
	}
	plain := ta.enc.buildPlan(evoRel(1, 1, evoID, evoA), "app.public.evo", priorFields{})
	if pf, err = priorFromSchema(registry.Registered{Text: plain.valueSchema}); err != nil || !reflect.DeepEqual(pf, prior(true, "id", "a")) {
		t.Errorf("plain prior = %+v, %v", pf, err)
	}
	if pf, err = priorFromSchema(registry.Registered{Text: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`}); err != nil || pf.fields != nil {
		t.Errorf("non-envelope prior = %+v, %v", pf, err)
	}
	if _, err = priorFromSchema(registry.Registered{Text: `{"type":`}); err == nil {
		t.Error("unparsable schema accepted")
	}
}

var (
	colXY  = event.Column{Name: "x-y", TypeOID: 23, TypeName: "int4", TypeMod: -1}
	colX_Y = event.Column{Name: "x_y", TypeOID: 23, TypeName: "int4", TypeMod: -1}
	colXdY = event.Column{Name: "x.y", TypeOID: 23, TypeName: "int4", TypeMod: -1}
)

// xyRel is public.t(id int pk, cols...) at version v.
func xyRel(v int, cols ...event.Column) *event.Relation {
	return &event.Relation{OID: 300, Schema: "public", Table: "t", ReplicaIdentity: event.IdentityDefault,
		Version: v, Columns: append([]event.Column{evoID}, cols...)}
}

// insertAfter encodes an insert of row into rel and returns the value
// schema ID and the decoded after image.
func insertAfter(t *testing.T, ta *testAvro, rel *event.Relation, row ...any) (uint32, map[string]any) {
	t.Helper()
	recs := mustEncode(t, ta.enc, change(event.OpCreate, rel, nil, row))
	id, _, _ := ParseWire(recs[0].Value)
	return id, ta.decodeValue(t, recs[0].Value)["after"].(map[string]any)
}

// restarted is a new encoder (as after a walrelay restart) over ta's store.
func restarted(t *testing.T, ta *testAvro) *testAvro {
	t.Helper()
	enc, err := NewAvro(testOptions(), AvroOptions{Registry: registry.NewClient(ta.store, registry.Backward, zerolog.Nop())})
	if err != nil {
		t.Fatal(err)
	}
	return &testAvro{enc: enc, store: ta.store, schemas: map[uint32]avro.Schema{}}
}

// TestAvroFieldNamesStable is the audit's D4: a table with column "x-y"
// (field x_y) gains a column "x_y". Field x_y keeps carrying "x-y" and the
// new column gets x_y_2, each recorded in pg.column; a restarted encoder,
// whether the registry holds the version before or after the ADD COLUMN,
// derives the same names (and the same schema ID); dropping "x-y" and adding
// "x.y" in one step does not hand x_y to "x.y".
func TestAvroFieldNamesStable(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	v1, v2 := xyRel(1, colXY), xyRel(2, colXY, colX_Y)
	if _, a := insertAfter(t, ta, v1, int32(1), int32(111)); !reflect.DeepEqual(a, map[string]any{"id": 1, "x_y": 111}) {
		t.Fatalf("v1 after = %v", a)
	}
	// A restart between v1 and the ADD COLUMN: the names come from the
	// registry, which holds v1; the running encoder's come from v1's plan.
	want := map[string]any{"id": 2, "x_y": 222, "x_y_2": 999}
	idB, a := insertAfter(t, restarted(t, ta), xyRel(1, colXY, colX_Y), int32(2), int32(222), int32(999))
	if !reflect.DeepEqual(a, want) {
		t.Errorf("restarted before ADD COLUMN: after = %v, want %v", a, want)
	}
	id2, a := insertAfter(t, ta, v2, int32(2), int32(222), int32(999))
	if id2 != idB || !reflect.DeepEqual(a, want) {
		t.Errorf("v2: schema %d (restarted: %d), after = %v, want %v", id2, idB, a, want)
	}
	text, err := ta.store.SchemaByID(int(id2))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`{"name":"x_y","type":["null","int"],"default":null,"pg.column":"x-y"}`,
		`{"name":"x_y_2","type":["null","int"],"default":null,"pg.column":"x_y"}`, `{"name":"id","type":"int"}`} {
		if !strings.Contains(text, w) {
			t.Errorf("value schema lacks %s:\n%s", w, text)
		}
	}
	// A restart after v2: the same names, the same schema ID.
	if idC, aC := insertAfter(t, restarted(t, ta), xyRel(1, colXY, colX_Y), int32(3), int32(333), int32(777)); idC != id2 ||
		!reflect.DeepEqual(aC, map[string]any{"id": 3, "x_y": 333, "x_y_2": 777}) {
		t.Errorf("restarted after ADD COLUMN: schema %d (want %d), after = %v", idC, id2, aC)
	}
	// DROP "x-y", ADD "x.y" in one step: "x.y" does not take x_y.
	v3 := xyRel(3, colX_Y, colXdY)
	want3 := map[string]any{"id": 4, "x_y_2": 44, "x_y_3": 55}
	id3, a := insertAfter(t, ta, v3, int32(4), int32(44), int32(55))
	if !reflect.DeepEqual(a, want3) {
		t.Errorf("v3 after = %v, want %v", a, want3)
	}
	if idD, aD := insertAfter(t, restarted(t, ta), xyRel(1, colX_Y, colXdY), int32(4), int32(44), int32(55)); idD != id3 || !reflect.DeepEqual(aD, want3) {
		t.Errorf("restarted after v3: schema %d (want %d), after = %v", idD, id3, aD)
	}
	if vs, _ := ta.store.Versions("app.public.t-value"); len(vs) != 3 {
		t.Errorf("value subject versions %v, want 3", vs)
	}
}

// TestAvroFieldNamesDebeziumParity: fields named as their column carry no
// pg.column (a table without sanitised names has the schemas it always
// had), and key fields never do, while keeping the value's names.
func TestAvroFieldNamesDebeziumParity(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	p, err := ta.enc.plan(ordersRel(), "app.public.orders")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.valueSchema, columnProp) || strings.Contains(p.keySchema, columnProp) {
		t.Errorf("pg.column in the schemas of a table without sanitised names:\n%s\n%s", p.valueSchema, p.keySchema)
	}
	rel := &event.Relation{OID: 301, Schema: "public", Table: "k", Version: 1, Columns: []event.Column{
		{Name: "k-1", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true}, evoA}}
	if p, err = ta.enc.plan(rel, "app.public.k"); err != nil {
		t.Fatal(err)
	}
	if p.keySchema != `{"type":"record","name":"Key","namespace":"app.public.k","fields":[{"name":"k_1","type":"int"}],"connect.name":"app.public.k.Key"}` {
		t.Errorf("key schema %s", p.keySchema)
	}
	if !strings.Contains(p.valueSchema, `{"name":"k_1","type":"int","pg.column":"k-1"}`) {
		t.Errorf("value schema %s", p.valueSchema)
	}
}

// latestRegistry is a Registry whose Latest fails with err, and which
// counts ID calls.
type latestRegistry struct {
	Registry
	err error
	ids int
}

func (l *latestRegistry) LatestRegistered(context.Context, string) (registry.Registered, bool, error) {
	return registry.Registered{}, false, l.err
}

func (l *latestRegistry) ID(ctx context.Context, subject, text string) (int, error) {
	l.ids++
	return l.Registry.ID(ctx, subject, text)
}

// TestAvroFieldNamesRegistryError: a registry failure while reading the
// latest schema fails the encoding, naming the table and subject, before
// anything is registered; a Registry without Latest names fields as for a
// new subject.
func TestAvroFieldNamesRegistryError(t *testing.T) {
	t.Parallel()
	store, err := registry.OpenStore(t.TempDir(), registry.Backward)
	if err != nil {
		t.Fatal(err)
	}
	client := registry.NewClient(store, registry.Backward, zerolog.Nop())
	down := errors.New("connection refused")
	reg := &latestRegistry{Registry: client, err: down}
	enc, err := NewAvro(testOptions(), AvroOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	_, err = enc.Encode(change(event.OpCreate, xyRel(1, colXY), nil, []any{int32(1), int32(1)}))
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "public.t") || !strings.Contains(err.Error(), `"app.public.t-value"`) {
		t.Errorf("Encode error = %v", err)
	}
	if reg.ids != 0 || len(store.Subjects()) != 0 {
		t.Errorf("%d ID calls, subjects %v after the failure", reg.ids, store.Subjects())
	}
	// Only ID: no lookup of earlier names.
	enc, err = NewAvro(testOptions(), AvroOptions{Registry: struct{ Registry }{client}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(change(event.OpCreate, xyRel(1, colXY), nil, []any{int32(1), int32(1)})); err != nil {
		t.Errorf("Registry without Latest: %v", err)
	}
}

// TestAvroFieldNamesUpgrade: a subject whose latest schema was registered
// before columns were recorded (no pg.column anywhere) keeps its field
// names, "x-y" as x_y_2 after the collision the earlier naming resolved
// that way; the next version only adds the pg.column properties, which the
// registry accepts as compatible.
func TestAvroFieldNamesUpgrade(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	rel := xyRel(1, colXY, colX_Y)
	legacy := strings.NewReplacer(`,"pg.column":"x-y"`, "", `,"pg.column":"x_y"`, "").Replace(
		ta.enc.buildPlan(rel, "app.public.t", prior(true, "id", "x_y_2", "x_y")).valueSchema)
	if strings.Contains(legacy, columnProp) || !strings.Contains(legacy, `{"name":"x_y_2","type":["null","int"],"default":null}`) {
		t.Fatalf("legacy schema: %s", legacy)
	}
	if _, err := ta.store.Register(context.Background(), "app.public.t-value", legacy); err != nil {
		t.Fatal(err)
	}
	_, a := insertAfter(t, ta, rel, int32(1), int32(111), int32(999))
	if want := map[string]any{"id": 1, "x_y_2": 111, "x_y": 999}; !reflect.DeepEqual(a, want) {
		t.Errorf("after = %v, want %v", a, want)
	}
	if vs, _ := ta.store.Versions("app.public.t-value"); len(vs) != 2 {
		t.Errorf("value subject versions %v, want 2", vs)
	}
}

// FuzzFieldNames: whatever the columns and the previous schema's fields
// (prior columns named "\x00"-separated in prev, the fields those names
// get on a new subject), every name is a valid Avro name, no two columns
// share one, a column the previous schema has keeps its field, and a new
// column takes no name of the previous schema.
func FuzzFieldNames(f *testing.F) {
	f.Add("id\x00x-y", "id\x00x-y\x00x_y", false)
	f.Add("x_y\x00x-y", "x.y\x00x_y", true)
	f.Add("a-b\x001x\x00ü", "a_b\x00a-b \x00_x", false)
	f.Fuzz(func(t *testing.T, prev, cur string, legacy bool) {
		prevCols, cols := uniq(strings.Split(prev, "\x00")), uniq(strings.Split(cur, "\x00"))
		pf := priorFields{legacy: legacy}
		for i, n := range fieldNames(prevCols, priorFields{}) {
			pf.fields = append(pf.fields, priorField{name: n, column: prevCols[i]})
		}
		before := map[string]string{}
		for _, p := range pf.fields {
			before[p.column] = p.name
		}
		got := fieldNames(cols, pf)
		seen := map[string]bool{}
		for i, n := range got {
			if !validAvroName(n) || seen[n] {
				t.Fatalf("fieldNames(%q, %q) = %q: %q invalid or repeated", cols, prevCols, got, n)
			}
			seen[n] = true
			if old, ok := before[cols[i]]; ok && old != n {
				t.Fatalf("column %q moved from %q to %q", cols[i], old, n)
			}
			if _, ok := before[cols[i]]; !ok && !legacy {
				for _, p := range pf.fields {
					if p.name == n {
						t.Fatalf("new column %q took %q of column %q", cols[i], n, p.column)
					}
				}
			}
		}
	})
}

// uniq drops repeated names (a relation's columns are distinct).
func uniq(names []string) []string {
	seen := map[string]bool{}
	out := names[:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
