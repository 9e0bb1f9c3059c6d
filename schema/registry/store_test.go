package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var ctx = context.Background()

func mustRegister(t *testing.T, s *Store, subject, text string) int {
	t.Helper()
	id, err := s.Register(ctx, subject, text)
	if err != nil {
		t.Fatalf("register %s: %v", subject, err)
	}
	return id
}

// TestStoreRegister: versions per subject, global IDs shared by identical
// schemas, re-registration idempotent, invalid and incompatible refused.
func TestStoreRegister(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), Backward)
	v1 := rec(`id:"int"`)
	v2 := rec(`id:"int"`, `b?:"string"`)
	id1 := mustRegister(t, s, "a-value", v1)
	id2 := mustRegister(t, s, "a-value", v2)
	if id1 != 1 || id2 != 2 {
		t.Errorf("ids %d %d, want 1 2", id1, id2)
	}
	// Same schema, other whitespace and key order: same ID, no new version.
	again := strings.ReplaceAll(strings.Replace(v2, `"type":"record","name":"R"`, `"name":"R", "type":"record"`, 1), ",", ", ")
	if id := mustRegister(t, s, "a-value", again); id != id2 {
		t.Errorf("re-register: id %d, want %d", id, id2)
	}
	if id := mustRegister(t, s, "b-value", v1); id != id1 {
		t.Errorf("same schema in another subject: id %d, want %d", id, id1)
	}
	if vs, _ := s.Versions("a-value"); !reflect.DeepEqual(vs, []int{1, 2}) {
		t.Errorf("versions %v", vs)
	}
	if v, err := s.Version("a-value", -1); err != nil || v.Version != 2 || v.ID != id2 || v.Text != v2 {
		t.Errorf("latest %+v %v", v, err)
	}
	if v, err := s.LookupVersion("a-value", v1); err != nil || v.Version != 1 || v.ID != id1 {
		t.Errorf("lookup %+v %v", v, err)
	}
	// A decimal's scale is part of the identity (the canonical form would drop it).
	d2 := rec(`d?:{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}`)
	d3 := rec(`d?:{"type":"bytes","logicalType":"decimal","precision":10,"scale":3}`)
	if a, b := mustRegister(t, s, "d-value", d2), mustRegister(t, s, "d-value", d3); a == b {
		t.Errorf("decimal scale 2 and 3 share id %d", a)
	}
	checkCode(t, "invalid schema", registerErr(s, "a-value", `{"type":"record"}`), CodeInvalidSchema)
	checkCode(t, "not JSON", registerErr(s, "a-value", `{`), CodeInvalidSchema)
	var ie *IncompatibleError
	if err := registerErr(s, "a-value", rec(`id:"string"`)); !errors.As(err, &ie) || ie.Subject != "a-value" ||
		ie.Against.Version != 2 || len(ie.Problems) != 1 || ie.Problems[0].Change != ChangeType {
		t.Errorf("incompatible: %v (%+v)", err, ie)
	}
	checkCode(t, "unknown subject", func() error { _, err := s.Versions("nope"); return err }(), CodeSubjectNotFound)
	checkCode(t, "unknown version", func() error { _, err := s.Version("a-value", 9); return err }(), CodeVersionNotFound)
	checkCode(t, "unknown id", func() error { _, err := s.SchemaByID(99); return err }(), CodeSchemaNotFound)
	checkCode(t, "schema not in subject", func() error { _, err := s.LookupVersion("b-value", v2); return err }(), CodeSchemaNotFound)
}

func registerErr(s *Store, subject, text string) error {
	_, err := s.Register(ctx, subject, text)
	return err
}

func checkCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: error %v, want code %d", what, err, code)
	}
}

// TestStoreReopen: IDs, versions and subject levels survive a restart; the
// global level is the configured one at every start.
func TestStoreReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir, Backward)
	mustRegister(t, s, "x-value", rec(`id:"int"`))
	id2 := mustRegister(t, s, "y-value", rec(`id:"long"`))
	if err := s.SetSubjectLevel("y-value", None); err != nil {
		t.Fatal(err)
	}
	s.SetLevel(Full)

	r := openStore(t, dir, Forward)
	if r.Level() != Forward {
		t.Errorf("global level after restart %s, want the configured FORWARD", r.Level())
	}
	if l, ok, _ := r.SubjectLevel(ctx, "y-value"); !ok || l != None {
		t.Errorf("subject level after restart %s %v", l, ok)
	}
	if v, err := r.Version("y-value", 1); err != nil || v.ID != id2 {
		t.Errorf("y-value v1 after restart: %+v %v", v, err)
	}
	if id := mustRegister(t, r, "z-value", rec(`id:"double"`)); id != 3 {
		t.Errorf("next id after restart %d, want 3", id)
	}
	// Subject level NONE lets an incompatible schema through.
	if _, err := r.Register(ctx, "y-value", rec(`id:"string"`)); err != nil {
		t.Errorf("NONE subject: %v", err)
	}
}

// TestStoreCorrupt: a damaged file is refused, never silently replaced.
func TestStoreCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StoreFile), []byte(`{"schemas":[{"id":1,"schema":"{"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(dir, Backward); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("open corrupt store: %v", err)
	}
}

// TestCheck: the levels' directions and transitivity, with problems that
// name the field and the change.
func TestCheck(t *testing.T) {
	t.Parallel()
	parse := func(text string) Version { return mustVersion(t, text) }
	v1 := parse(rec(`id:"int"`))
	v2 := parse(rec(`id:"int"`, `a?:"string"`))
	required := parse(rec(`id:"int"`, `r:"string"`))
	wider := parse(rec(`id:"long"`))
	cases := []struct {
		level   Level
		history []Version
		next    Version
		ok      bool
		change  string
		path    string
	}{
		{Backward, []Version{v1}, v2, true, "", ""},
		{Backward, []Version{v1}, required, false, ChangeAdded, "r"},
		{Forward, []Version{required}, v1, false, ChangeRemoved, "r"},
		{Forward, []Version{v2}, v1, true, "", ""},
		{Backward, []Version{v1}, wider, true, "", ""},
		{Forward, []Version{v1}, wider, false, ChangeType, "id"},
		{Full, []Version{v1}, wider, false, ChangeType, "id"},
		{None, []Version{v1}, parse(`"string"`), true, "", ""},
		// Transitive: v1 -> wider -> v1 again: BACKWARD checks the latest only.
		{Backward, []Version{required, v1}, v2, true, "", ""},
		{BackwardTransitive, []Version{wider, v2}, v1, false, ChangeType, "id"},
	}
	for i, c := range cases {
		err := Check(c.level, c.next.Schema, c.history)
		if c.ok {
			if err != nil {
				t.Errorf("case %d (%s): %v", i, c.level, err)
			}
			continue
		}
		var ie *IncompatibleError
		if !errors.As(err, &ie) || len(ie.Problems) == 0 || ie.Problems[0].Change != c.change ||
			strings.Join(ie.Problems[0].Path, ".") != c.path {
			t.Errorf("case %d (%s): %v, want %s of %s", i, c.level, err, c.change, c.path)
		}
	}
	if _, err := ParseLevel("full_transitive"); err != nil {
		t.Error(err)
	}
	if _, err := ParseLevel("sideways"); err == nil {
		t.Error("ParseLevel accepted sideways")
	}
}
