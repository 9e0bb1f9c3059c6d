package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "nested")
	s, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, want 0700", st.Mode().Perm())
	}
	ctx := context.Background()
	if _, ok, err := s.Load(ctx); ok || err != nil {
		t.Fatalf("Load on empty dir = ok %v, err %v; want false, nil", ok, err)
	}
	at := time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)
	want := Position{LSN: 0x16B3748, Slot: "walrelay", UpdatedAt: at}
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(ctx)
	if err != nil || !ok {
		t.Fatalf("Load = ok %v, err %v", ok, err)
	}
	if got.LSN != want.LSN || got.Slot != want.Slot || !got.UpdatedAt.Equal(at) {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}

	// The file format is the documented one.
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["lsn"] != "0/16B3748" || m["slot"] != "walrelay" || m["updated_at"] != "2024-05-01T10:00:00.123456789Z" {
		t.Fatalf("file content %s", raw)
	}

	// Overwrite, and reopen.
	if err := s.Save(ctx, Position{LSN: 0x1_0000_0010, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	s2, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := s2.Load(ctx); err != nil || got.LSN != 0x1_0000_0010 {
		t.Fatalf("reopened Load = %s, %v; want 1/10", got.LSN, err)
	}
	if n := countTemps(t, dir); n != 0 {
		t.Fatalf("%d temp files left after saves", n)
	}
}

func countTemps(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, FileName+".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// A crash between writing the temp file and renaming it leaves a temp file
// (possibly torn); Load must ignore it and RemoveTemps must clean it up.
func TestFileStoreLeftoverTempFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, Position{LSN: 0x100, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(dir, FileName+".tmp-12345")
	if err := os.WriteFile(torn, []byte(`{"lsn":"0/2`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Load(ctx); err != nil || !ok || got.LSN != 0x100 {
		t.Fatalf("Load with a leftover temp file = %s, %v, %v; want 0/100", got.LSN, ok, err)
	}
	s2, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(torn); err != nil {
		t.Fatalf("NewFileStore removed the temp file (a reader must not): %v", err)
	}
	s2.RemoveTemps()
	if _, err := os.Stat(torn); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("leftover temp file not removed: %v", err)
	}
	// Only a temp file, no checkpoint: nothing stored.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, FileName+".tmp-1"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := &FileStore{dir: dir2, path: filepath.Join(dir2, FileName), slot: "walrelay"}
	if _, ok, err := s3.Load(ctx); ok || err != nil {
		t.Fatalf("Load with only a temp file = %v, %v; want false, nil", ok, err)
	}
}

func TestFileStoreCorrupt(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, content, wantIn string }{
		{"empty", "", "not valid JSON"},
		{"torn", `{"lsn":"0/16B3`, "not valid JSON"},
		{"not json", "hello", "not valid JSON"},
		{"bad lsn", `{"lsn":"16B3748","slot":"walrelay"}`, `lsn "16B3748"`},
		{"trailing junk in lsn", `{"lsn":"0/16B3748x","slot":"walrelay"}`, "is not an LSN"},
		{"lsn half too wide", `{"lsn":"0/116B37480","slot":"walrelay"}`, "is not an LSN"},
		{"missing lsn", `{"slot":"walrelay"}`, "is not an LSN"},
		{"other slot", `{"lsn":"0/1","slot":"other","updated_at":"2024-05-01T10:00:00Z"}`, `belongs to slot "other"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := NewFileStore(dir, "walrelay")
			if err != nil {
				t.Fatal(err)
			}
			_, ok, err := s.Load(context.Background())
			if err == nil || ok {
				t.Fatalf("Load = ok %v, err %v; want an error", ok, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("error %q does not name %s and %q", err, path, tc.wantIn)
			}
		})
	}
}

func TestFileStoreRejectsOtherSlot(t *testing.T) {
	t.Parallel()
	s, err := NewFileStore(t.TempDir(), "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), Position{LSN: 1, Slot: "other"}); err == nil {
		t.Fatal("Save for another slot succeeded")
	}
}

func TestFileStoreUnwritableDir(t *testing.T) {
	t.Parallel()
	// A regular file where the data directory should be: creating it fails
	// for root too, and the error must name the path.
	base := t.TempDir()
	blocker := filepath.Join(base, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewFileStore(filepath.Join(blocker, "data"), "walrelay")
	if err == nil || !strings.Contains(err.Error(), blocker) {
		t.Fatalf("NewFileStore under a file = %v, want an error naming %s", err, blocker)
	}
	// The data directory removed behind the store's back: Save fails and says where.
	dir := filepath.Join(base, "gone")
	s, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	err = s.Save(context.Background(), Position{LSN: 7})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) || !strings.Contains(err.Error(), "0/7") {
		t.Fatalf("Save into a missing dir = %v, want an error naming the file and the LSN", err)
	}
}

func TestFileHint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/d/x", Err: syscall.EACCES}, "may write to it"},
		{&fs.PathError{Op: "write", Path: "/d/x", Err: syscall.ENOSPC}, "is full"},
		{&fs.PathError{Op: "write", Path: "/d/x", Err: syscall.EROFS}, "read-only"},
		{fmt.Errorf("wrapped: %w", syscall.EPERM), "may write to it"},
		{errors.New("other"), ""},
	}
	for _, tc := range cases {
		got := fileHint(tc.err, "/d")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("fileHint(%v) = %q, want it to contain %q", tc.err, got, tc.want)
		}
	}
}
