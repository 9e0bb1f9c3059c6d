//go:build unix

package pipeline

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDataDirLock: a second holder of the same data_dir is refused with a
// fatal error naming the first, and gets it once the first released it.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir() + "/data"
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	_, err = lockDataDir(dir)
	if err == nil {
		t.Fatal("second lock of the same data_dir succeeded")
	}
	if !IsFatal(err) || !strings.Contains(err.Error(), "in use by walrelay process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v (fatal %v), want a fatal error naming pid %d", err, IsFatal(err), os.Getpid())
	}
	unlock()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}
