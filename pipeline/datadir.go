package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DataDirError is a data_dir that walrelay run cannot create or write:
// the lock, the file checkpoint store, the embedded registry and the status
// file all live there. Run (lockDataDir) and `walrelay check`
// (ProbeDataDir) report it with the same text.
type DataDirError struct {
	Dir string
	Err error
}

func (e *DataDirError) Error() string {
	return fmt.Sprintf("%s (%s)", e.Problem(), e.Fix())
}

func (e *DataDirError) Unwrap() error { return e.Err }

// Problem is the error without its fix, for `walrelay check`'s finding:
// the system's reason, without the name of the file that met it (run's
// LockFile, check's probe) when it concerns the whole directory
// (dirWide), so that run and check say the same.
func (e *DataDirError) Problem() string {
	reason := e.Err.Error()
	var pe *fs.PathError
	switch {
	case !errors.As(e.Err, &pe):
	case dirWide(pe.Err) || filepath.Base(pe.Path) != LockFile:
		reason = pe.Err.Error()
	default: // e.g. a directory named walrelay.lock
		reason = LockFile + ": " + pe.Err.Error()
	}
	return fmt.Sprintf("data_dir %s cannot be written: %s", e.Dir, reason)
}

// Fix says what lets walrelay run use data_dir.
func (e *DataDirError) Fix() string {
	if errors.Is(e.Err, ErrLockSymlink) {
		return fmt.Sprintf("remove %s (a user who may write %s can plant one to make walrelay overwrite the file it "+
			"points to), then chmod 0700 %s so that only the user running walrelay may write it",
			filepath.Join(e.Dir, LockFile), e.Dir, e.Dir)
	}
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && errors.Is(pe.Err, fs.ErrPermission) {
		return fmt.Sprintf("let the user running walrelay (uid %d) create and write files in %s "+
			"(chown -R, mode 0700), or set data_dir to a directory it owns", os.Getuid(), e.Dir)
	}
	return fmt.Sprintf("make %s a writable directory (not on a read-only or full file system) that the user running "+
		"walrelay may write, or set data_dir to one", e.Dir)
}

// ProbeDataDir does to dir what walrelay run does before it takes the
// lock, without taking it: it creates dir when missing (then removes what
// it created), creates and removes a file in it, and opens an existing
// LockFile for writing as the lock needs (opening and closing it leaves the
// lock of a running walrelay held), refusing a LockFile that is a symbolic
// link as run does. The error is a *DataDirError.
func ProbeDataDir(dir string) error {
	created, err := mkdirAllCreated(dir)
	defer func() {
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
	}()
	if err != nil {
		return &DataDirError{Dir: dir, Err: err}
	}
	f, err := os.CreateTemp(dir, ".walrelay-check-*")
	if err != nil {
		return &DataDirError{Dir: dir, Err: err}
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return &DataDirError{Dir: dir, Err: err}
	}
	if err := lockSymlink(dir); err != nil {
		return err
	}
	lf, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR, 0)
	switch {
	case err == nil:
		lf.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return &DataDirError{Dir: dir, Err: err}
	}
	return nil
}

// ErrLockSymlink is a LockFile that is a symbolic link: walrelay run would
// truncate and write the file it points to, so run and check refuse it.
var ErrLockSymlink = errors.New("is a symbolic link, which walrelay refuses to follow")

// lockSymlink returns a *DataDirError (ErrLockSymlink) when dir's LockFile
// is a symbolic link.
func lockSymlink(dir string) error {
	path := filepath.Join(dir, LockFile)
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &DataDirError{Dir: dir, Err: &fs.PathError{Op: "open", Path: path, Err: ErrLockSymlink}}
	}
	return nil
}

// DataDirWarning says, when dir exists and group or others may write it,
// why that is unsafe and how to fix it (both "" otherwise): another local
// user could replace checkpoint.json (skipping WAL) or plant files there.
// Run logs it and `walrelay check` reports it.
func DataDirWarning(dir string) (problem, fix string) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o022 == 0 {
		return "", ""
	}
	return fmt.Sprintf("data_dir %s is writable by group or others (mode %04o): another local user could "+
			"replace its checkpoint or plant files in it", dir, fi.Mode().Perm()),
		fmt.Sprintf("chmod 0700 %s (owned by the user running walrelay)", dir)
}

// mkdirAllCreated is os.MkdirAll(dir, 0o700), as lockDataDir creates
// data_dir, returning the directories it created, outermost first.
func mkdirAllCreated(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append(missing, d)
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return created, err
		} else if err == nil {
			created = append(created, missing[i])
		}
	}
	if fi, err := os.Stat(dir); err != nil {
		return created, err
	} else if !fi.IsDir() {
		return created, &fs.PathError{Op: "mkdir", Path: dir, Err: errors.New("not a directory")}
	}
	return created, nil
}

// dirWide reports whether err, met creating or opening a file in a
// directory, concerns the directory as a whole rather than that file.
func dirWide(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
