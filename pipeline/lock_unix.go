//go:build unix

package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDataDir takes an exclusive lock on dir (creating it), so that two
// walrelay processes never share a checkpoint, a schema registry and a
// status file. The lock is the kernel's (flock), so a killed process
// releases it. It returns the function that releases it, or an error that
// names the process holding it; a dir it cannot create or write is a
// *DataDirError, as `walrelay check` reports it (ProbeDataDir). A LockFile
// that is a symbolic link is refused (ErrLockSymlink), never followed.
func lockDataDir(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &DataDirError{Dir: dir, Err: err}
	}
	path := filepath.Join(dir, LockFile)
	if err := lockSymlink(dir); err != nil {
		return nil, err
	}
	// O_NOFOLLOW: a symbolic link planted after the check above (by a user
	// who may write data_dir) must not make walrelay truncate its target.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &DataDirError{Dir: dir, Err: &fs.PathError{Op: "open", Path: path, Err: ErrLockSymlink}}
	}
	if err != nil {
		return nil, &DataDirError{Dir: dir, Err: err}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf("walrelay process %d", pid)
			}
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fatal(fmt.Errorf("data_dir %s is in use by %s; give each walrelay its own data_dir", dir, holder))
		}
		return nil, fmt.Errorf("data_dir %s: lock %s: %w", dir, LockFile, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
