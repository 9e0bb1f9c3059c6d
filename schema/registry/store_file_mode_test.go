//go:build unix

package registry

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestStoreFilesArePrivate (security audit 5): the embedded registry's
// directory is 0700 and schemas.json and schemas.log 0600 like every other file walrelay
// writes, under umask 000 too, and a directory an older walrelay left 0755
// is made 0700.
func TestStoreFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	for _, existing := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "registry")
		if existing {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		s, err := OpenStore(dir, Backward)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Register(context.Background(), "orders-value", `{"type":"string"}`); err != nil {
			t.Fatal(err)
		}
		if err := s.compact(); err != nil { // writes the snapshot, as an open with a long log does
			t.Fatal(err)
		}
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, StoreFile): 0o600, filepath.Join(dir, LogFile): 0o600} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("existing dir %v: %s: mode %v (%v), want %04o", existing, path, fi.Mode().Perm(), err, want)
			}
		}
	}
}
