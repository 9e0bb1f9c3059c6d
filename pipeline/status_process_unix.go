//go:build unix

package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// lockFileID returns the device and inode of dir's LockFile as /proc/locks
// shows them (Linux's encoding of the device number); false if it cannot be
// read.
func lockFileID(dir string) (fileID, bool) {
	fi, err := os.Stat(filepath.Join(dir, LockFile))
	if err != nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	dev := uint64(st.Dev) // uint32 or uint64, by platform
	return fileID{major: (dev>>8)&0xfff | (dev>>32)&^uint64(0xfff), minor: dev&0xff | (dev>>12)&^uint64(0xff),
		ino: uint64(st.Ino)}, true
}

// pidAlive checks whether a process pid exists (signal 0): running if it
// does (also when it belongs to another user), stopped if not. It cannot
// tell a walrelay from another program that got the pid later.
func pidAlive(pid int) ProcessState {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil || errors.Is(err, syscall.EPERM):
		return ProcessRunning
	case errors.Is(err, syscall.ESRCH):
		return ProcessStopped
	default:
		return ProcessUnknown
	}
}
