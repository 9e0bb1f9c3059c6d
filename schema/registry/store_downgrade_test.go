package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// legacyRegister registers text under subject the way a walrelay before
// logFileSince did: it reads only schemas.json, gives a new text the ID after
// the highest there, and rewrites the whole file (indented, as it did).
func legacyRegister(t *testing.T, dir, subject, text string) int {
	t.Helper()
	path := filepath.Join(dir, StoreFile)
	st := fileState{Format: 1, Subjects: map[string][]int{}}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
	}
	id, next := 0, 1
	for _, fs := range st.Schemas {
		if fs.Schema == text {
			id = fs.ID
		}
		next = max(next, fs.ID+1)
	}
	if id == 0 {
		id = next
		st.Schemas = append(st.Schemas, fileSchema{ID: id, Schema: text})
	}
	st.Subjects[subject] = append(st.Subjects[subject], id)
	b, err := json.MarshalIndent(st, "", " ")
	if err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// setMtime sets the modification time of dir's file name.
func setMtime(t *testing.T, dir, name string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(filepath.Join(dir, name), at, at); err != nil {
		t.Fatal(err)
	}
}

// upgradedThenBack builds the audit's downgrade (auditupg finding 3): an
// older walrelay's schemas.json (IDs 1 and 2), a newer walrelay registering
// b-value version 2 (ID 3, in schemas.log), then the older one again
// registering text as a-value version 2. It returns the registry directory.
func upgradedThenBack(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	legacyRegister(t, dir, "a-value", rec(`id:"int"`))
	legacyRegister(t, dir, "b-value", rec(`id:"long"`))
	s := openStore(t, dir, Backward)
	if id := mustRegister(t, s, "b-value", rec(`id:"long"`, `e?:"string"`)); id != 3 {
		t.Fatalf("newer walrelay's registration: id %d, want 3", id)
	}
	s.log.Close()
	if id := legacyRegister(t, dir, "a-value", text); id != 3 {
		t.Fatalf("older walrelay's registration: id %d, want 3", id)
	}
	setMtime(t, dir, LogFile, time.Now().Add(-time.Hour)) // its last line came first
	return dir
}

// After an older walrelay gave ID 3, which schemas.log had given to
// b-value version 2, to another schema, the refusal names that cause, the
// ID and both subjects, and keeps the restore advice.
func TestStoreOlderWalrelayReusedID(t *testing.T) {
	t.Parallel()
	dir := upgradedThenBack(t, rec(`id:"int"`, `f?:"string"`))
	_, err := OpenStore(dir, Backward)
	if err == nil {
		t.Fatal("the store opened, with ID 3 meaning two schemas")
	}
	for _, want := range []string{
		"schemas.log is corrupt (line 1: schema id 3 is invalid or repeated)",
		"likely cause: a walrelay before " + logFileSince + ", which reads and writes only schemas.json, ran on this data_dir",
		`schema id 3 is "a-value" version 2 in schemas.json, "b-value" version 2 in schemas.log`,
		"schemas.json was written after schemas.log's last line",
		"records published with a reused ID decode with only one of its two schemas",
		"restore the registry directory from a backup",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
}

// A contradiction in a subject's version (the log line of a schema already
// known has no text to compare) names the cause too.
func TestStoreOlderWalrelayVersionClash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacyRegister(t, dir, "a-value", rec(`id:"int"`))
	legacyRegister(t, dir, "b-value", rec(`id:"long"`))
	s := openStore(t, dir, Backward)
	mustRegister(t, s, "c-value", rec(`id:"int"`)) // known ID 1: a line without the text
	s.log.Close()
	legacyRegister(t, dir, "c-value", rec(`id:"long"`)) // c-value version 1 is ID 2 in schemas.json
	setMtime(t, dir, LogFile, time.Now().Add(-time.Hour))
	_, err := OpenStore(dir, Backward)
	if err == nil {
		t.Fatal("the store opened, with two version 1 of c-value")
	}
	for _, want := range []string{
		"likely cause: a walrelay before " + logFileSince,
		`"c-value" version 1 is schema id 2 in schemas.json, 1 in schemas.log`,
		"schemas.json was written after schemas.log's last line",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "reused ID") {
		t.Errorf("error %q speaks of a reused ID: no ID holds two schemas", err)
	}
}

// The older walrelay registering the very schema the log gave the ID to is
// no conflict: the store opens with it (auditupg scenario g).
func TestStoreOlderWalrelaySameSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacyRegister(t, dir, "b-value", rec(`id:"long"`))
	s := openStore(t, dir, Backward)
	mustRegister(t, s, "b-value", rec(`id:"long"`, `e?:"string"`))
	s.log.Close()
	legacyRegister(t, dir, "b-value", rec(`id:"long"`, `e?:"string"`))
	s = openStore(t, dir, Backward)
	if v, err := s.Version("b-value", 2); err != nil || v.ID != 2 {
		t.Errorf("b-value version 2: %+v, %v; want ID 2", v, err)
	}
}

// A log damaged otherwise, next to an older schemas.json that agrees with
// it, is refused without blaming an older walrelay.
func TestStoreCorruptLogNoCause(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	legacyRegister(t, dir, "a-value", rec(`id:"int"`))
	s := openStore(t, dir, Backward)
	mustRegister(t, s, "a-value", rec(`id:"int"`, `f?:"string"`))
	s.log.Close()
	bad := fmt.Sprintf(`{"op":"register","subject":"b-value","version":1,"id":0,"schema":%q}`+"\n", rec(`id:"long"`))
	f, err := os.OpenFile(filepath.Join(dir, LogFile), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(bad)
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	setMtime(t, dir, StoreFile, time.Now().Add(-time.Hour))
	_, err = OpenStore(dir, Backward)
	if err == nil || !strings.Contains(err.Error(), "line 2: schema id 0 is invalid or repeated") {
		t.Fatalf("open: %v, want line 2 refused", err)
	}
	if strings.Contains(err.Error(), "likely cause") {
		t.Errorf("error %q blames an older walrelay", err)
	}
}
