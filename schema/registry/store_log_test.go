package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// storeIDs is every subject's schema IDs by version, and the subject levels.
func storeIDs(t *testing.T, s *Store) (map[string][]int, map[string]Level) {
	t.Helper()
	ids := map[string][]int{}
	levels := map[string]Level{}
	for _, sub := range s.Subjects() {
		vs, _ := s.Versions(sub)
		for _, v := range vs {
			ver, err := s.Version(sub, v)
			if err != nil {
				t.Fatal(err)
			}
			ids[sub] = append(ids[sub], ver.ID)
		}
		if l, ok, _ := s.SubjectLevel(ctx, sub); ok {
			levels[sub] = l
		}
	}
	return ids, levels
}

// TestStoreUpgradeKeepsIDs: a schemas.json written before the log (IDs with
// gaps, a shared ID, a subject level) opens with every ID and version as it
// was, new schemas take the next ID, and all of it survives restarts.
func TestStoreUpgradeKeepsIDs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := fmt.Sprintf(`{"format":1,"schemas":[{"id":3,"schema":%q},{"id":7,"schema":%q}],`+
		`"subjects":{"a-value":[3,7],"b-value":[7]},"config":{"b-value":"NONE"}}`,
		rec(`id:"int"`), rec(`id:"int"`, `b?:"string"`))
	if err := os.WriteFile(filepath.Join(dir, StoreFile), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"a-value": {3, 7}, "b-value": {7}}
	s := openStore(t, dir, Backward)
	if ids, levels := storeIDs(t, s); !reflect.DeepEqual(ids, want) || levels["b-value"] != None {
		t.Fatalf("after upgrade: %v %v, want %v and b-value NONE", ids, levels, want)
	}
	if id := mustRegister(t, s, "c-value", rec(`id:"long"`)); id != 8 {
		t.Errorf("new schema after upgrade: id %d, want 8", id)
	}
	if id := mustRegister(t, s, "d-value", rec(`id:"int"`, `b?:"string"`)); id != 7 {
		t.Errorf("known schema in a new subject: id %d, want 7", id)
	}
	want["c-value"], want["d-value"] = []int{8}, []int{7}
	// A registration costs one log line, not a rewrite of everything (audit
	// scale 1: the whole file was rewritten, quadratic in the schemas).
	if b, err := os.ReadFile(filepath.Join(dir, StoreFile)); err != nil || string(b) != old {
		t.Errorf("schemas.json rewritten by a registration (%v)", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LogFile)); strings.Count(string(b), "\n") != 2 {
		t.Errorf("log after 2 registrations: %q, want 2 lines", b)
	}
	for i := 0; i < 2; i++ {
		r := openStore(t, dir, Backward)
		if ids, levels := storeIDs(t, r); !reflect.DeepEqual(ids, want) || levels["b-value"] != None {
			t.Errorf("restart %d: %v %v, want %v", i, ids, levels, want)
		}
	}
}

// TestStoreTornLastLine: a registration a crash cut short (the log's last
// line without its newline) is ignored and cut off, so the next one is
// readable after it; a damaged complete line is refused.
func TestStoreTornLastLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir, Backward)
	mustRegister(t, s, "a-value", rec(`id:"int"`))
	mustRegister(t, s, "b-value", rec(`id:"long"`))
	logPath := filepath.Join(dir, LogFile)
	good, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	torn := append(append([]byte{}, good...), `{"op":"register","subject":"c-value","version":1,"id":3,"sch`...)
	if err := os.WriteFile(logPath, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	r := openStore(t, dir, Backward)
	if _, err := r.Versions("c-value"); err == nil {
		t.Error("the torn registration of c-value was applied")
	}
	if id := mustRegister(t, r, "d-value", rec(`id:"double"`)); id != 3 {
		t.Errorf("after a torn line: id %d, want 3", id)
	}
	ids, _ := storeIDs(t, openStore(t, dir, Backward))
	if want := map[string][]int{"a-value": {1}, "b-value": {2}, "d-value": {3}}; !reflect.DeepEqual(ids, want) {
		t.Errorf("restart after a torn line: %v, want %v", ids, want)
	}

	bad := strings.Replace(string(good), `"op":"register"`, `"op":"regist`, 1)
	if err := os.WriteFile(logPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(dir, Backward); err == nil || !strings.Contains(err.Error(), "corrupt") ||
		!strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "backup") {
		t.Errorf("damaged complete line: %v, want a corrupt error naming line 1 and the fix", err)
	}
}

// TestStoreManyAppendsRestart: hundreds of registrations (wide tables and
// many versions of one subject) and level changes come back with the same
// IDs after a restart, after the compaction that restart does, and after a
// crash between a compaction's snapshot and its emptying of the log.
func TestStoreManyAppendsRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir, Backward)
	for i := 0; i < 100; i++ { // about 1.2 MB of log: the next open compacts it
		mustRegister(t, s, fmt.Sprintf("t%d-value", i), wideRecord(i))
	}
	fields := []string{`id:"int"`}
	for v := 0; v < 150; v++ {
		fields = append(fields, fmt.Sprintf(`f%d?:"string"`, v))
		mustRegister(t, s, "wide-value", rec(fields...))
	}
	mustRegister(t, s, "again-value", wideRecord(5))
	if err := s.SetSubjectLevel("t1-value", Full); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSubjectLevel("t2-value", None); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteSubjectLevel("t2-value"); err != nil {
		t.Fatal(err)
	}
	wantIDs, wantLevels := storeIDs(t, s)
	log, _ := os.ReadFile(filepath.Join(dir, LogFile))

	check := func(what string) *Store {
		r := openStore(t, dir, Backward)
		if ids, levels := storeIDs(t, r); !reflect.DeepEqual(ids, wantIDs) || !reflect.DeepEqual(levels, wantLevels) {
			t.Fatalf("%s: ids or levels differ: levels %v, want %v", what, levels, wantLevels)
		}
		return r
	}
	check("restart")
	if fi, err := os.Stat(filepath.Join(dir, LogFile)); err != nil || fi.Size() != 0 {
		t.Errorf("log after a restart with a long log: %v %v, want compacted to empty", fi, err)
	}
	check("restart after compaction")
	if err := os.WriteFile(filepath.Join(dir, LogFile), log, 0o600); err != nil { // crash before emptying
		t.Fatal(err)
	}
	r := check("log replayed over a snapshot that holds it")
	if id := mustRegister(t, r, "last-value", rec(`id:"bytes"`)); id != 251 {
		t.Errorf("next id %d, want 251", id)
	}
	if v, err := r.Version("wide-value", 3); err != nil || v.Schema == nil || v.ID != 103 {
		t.Errorf("an old version, parsed again: %+v %v", v, err)
	}
}

// TestStoreKeepsOnlyLatestParsed (audit scale 1 and 5, memory): of a
// subject's versions only the latest stays parsed, and only once the subject
// has more than one version, so hundreds of versions of a wide table do not
// keep hundreds of parsed records and thousands of tables that never changed
// keep their schemas as text (a parsed Avro schema is ten times its text);
// any version still comes back parsed when asked for.
func TestStoreKeepsOnlyLatestParsed(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir(), Backward)
	v1 := mustRegister(t, s, "a-value", rec(`id:"int"`))
	mustRegister(t, s, "b-value", rec(`id:"int"`))
	if s.byID[v1].schema != nil {
		t.Error("schema 1, the only version of a-value and b-value, kept parsed")
	}
	mustRegister(t, s, "a-value", rec(`id:"int"`, `x?:"string"`))
	v3 := mustRegister(t, s, "a-value", rec(`id:"int"`, `x?:"string"`, `y?:"long"`))
	if s.byID[v1].schema != nil {
		t.Error("schema 1, b-value's only version, kept parsed")
	}
	if s.byID[2].schema != nil || s.byID[v3].schema == nil {
		t.Errorf("a-value's version 2 kept parsed (%v) or its latest dropped (%v)", s.byID[2].schema != nil, s.byID[v3].schema == nil)
	}
	for _, v := range []struct {
		subject string
		version int
	}{{"a-value", 2}, {"b-value", 1}} {
		if got, err := s.Version(v.subject, v.version); err != nil || got.Schema == nil {
			t.Errorf("%s version %d: %+v %v, want it parsed again", v.subject, v.version, got, err)
		}
	}
	r := openStore(t, s.logPath[:len(s.logPath)-len(LogFile)], Backward)
	if r.byID[2].schema != nil || r.byID[v1].schema != nil || r.byID[v3].schema == nil {
		t.Error("after a restart: only the latest version of a-value should stay parsed")
	}
}

// TestStoreLookupParsesOnlyTheText (auditscale2): Lookup, which the encoder
// calls for every subject once per process, parses the text it is given
// but not the stored schema (kept as text while the subject has one
// version): a restart over 2,000 Avro tables spent a third of its CPU
// parsing stored schemas again. Measured in allocations: a lookup costs
// about what preparing the text costs, not twice that.
func TestStoreLookupParsesOnlyTheText(t *testing.T) {
	s := openStore(t, t.TempDir(), Backward)
	fields := []string{`id:"int"`}
	for i := range 60 {
		fields = append(fields, fmt.Sprintf(`c%d?:"string"`, i))
	}
	text := rec(fields...)
	id := mustRegister(t, s, "wide-value", text)
	ctx := context.Background()
	if got, found, err := s.Lookup(ctx, "wide-value", text); err != nil || !found || got != id {
		t.Fatalf("Lookup = %d, %v, %v; want %d", got, found, err, id)
	}
	lookup := testing.AllocsPerRun(20, func() { _, _, _ = s.Lookup(ctx, "wide-value", text) })
	prep := testing.AllocsPerRun(20, func() { _, _, _ = prepare(text) })
	if lookup > prep*1.3+10 {
		t.Errorf("Lookup made %.0f allocations, preparing the text alone %.0f: the stored schema was parsed too", lookup, prep)
	}
}
