package pipeline

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReportEvery is how often a running walrelay rewrites its status file:
// every progress report while it streams, and more often while a snapshot
// runs.
const ReportEvery = reportEvery

// StaleAfter is the age past which a running walrelay's status report is
// stale: the process is between sessions (restarting its pipeline, with a
// backoff of up to 30 s) or stuck.
const StaleAfter = 3 * ReportEvery

// ProcessState says whether the walrelay that wrote a status file still runs.
type ProcessState int

const (
	// ProcessUnknown: this system cannot tell (no flock, no process check).
	ProcessUnknown ProcessState = iota
	// ProcessRunning: the writer runs (it holds the data directory's lock).
	ProcessRunning
	// ProcessStopped: the writer is gone and no walrelay holds the data
	// directory: stopped, killed or crashed.
	ProcessStopped
	// ProcessReplaced: the writer is gone and another walrelay holds the
	// data directory; it has not written its first report yet.
	ProcessReplaced
)

// StatusProcess tells whether pid, the process that wrote the status file
// in the data directory dir, still runs, and which process holds the
// directory's lock (LockFile) now, 0 if none or unknown. On Linux it asks
// the kernel who holds the lock (/proc/locks), which also tells a pid reused
// by another program from walrelay; elsewhere on Unix it checks only that
// pid exists. It only reads: `walrelay status` calls it, and taking the lock
// even briefly could make a walrelay starting at that moment refuse the
// directory.
func StatusProcess(dir string, pid int) (ProcessState, int) {
	if holders, ok := lockHolders(dir); ok {
		switch {
		case len(holders) == 0:
			return ProcessStopped, 0
		case pid > 0 && containsPID(holders, pid):
			return ProcessRunning, pid
		case holders[0] == 0: // the holder's pid is not visible from here
			if pid > 0 && pidAlive(pid) == ProcessRunning {
				return ProcessRunning, 0
			}
			return ProcessReplaced, 0
		default:
			return ProcessReplaced, holders[0]
		}
	}
	if pid <= 0 {
		return ProcessUnknown, 0
	}
	return pidAlive(pid), 0
}

func containsPID(pids []int, pid int) bool {
	for _, p := range pids {
		if p == pid {
			return true
		}
	}
	return false
}

// lockHolders returns the pids of the processes holding a flock on dir's
// LockFile, from /proc/locks; ok is false where that cannot be read (not
// Linux) or the lock file has no identity (missing: then no walrelay holds
// the directory, but old walrelays did not make one; the caller falls back
// to checking the pid).
func lockHolders(dir string) (pids []int, ok bool) {
	id, ok := lockFileID(dir)
	if !ok {
		return nil, false
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil, false
	}
	return parseProcLocks(data, id), true
}

// fileID identifies a file for /proc/locks: its device (major, minor) and
// inode.
type fileID struct {
	major, minor uint64
	ino          uint64
}

// parseProcLocks returns the pids of the FLOCK locks that /proc/locks (data)
// lists as held on the file id, in the order listed; waiters ("->") are not
// holders. A lock on the same inode of another device counts only when no
// lock matches the device too (an overlay filesystem may show a device
// that stat does not). A pid of 0 means the kernel did not show it (another
// pid namespace). Lines that do not parse are skipped.
func parseProcLocks(data []byte, id fileID) []int {
	var same, other []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] == "->" || f[1] != "FLOCK" {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid < 0 {
			continue
		}
		dev, ok := parseLockFile(f[5])
		if !ok || dev.ino != id.ino {
			continue
		}
		if dev.major == id.major && dev.minor == id.minor {
			same = append(same, pid)
		} else {
			other = append(other, pid)
		}
	}
	if len(same) > 0 {
		return same
	}
	return other
}

// parseLockFile parses /proc/locks' "MAJ:MIN:INODE" (major and minor in
// hex, the inode in decimal).
func parseLockFile(s string) (fileID, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return fileID{}, false
	}
	major, err1 := strconv.ParseUint(parts[0], 16, 32)
	minor, err2 := strconv.ParseUint(parts[1], 16, 32)
	ino, err3 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return fileID{}, false
	}
	return fileID{major: major, minor: minor, ino: ino}, true
}

// Stale reports whether st, a report of a running walrelay, is older than
// StaleAfter at now; a report of a halted pipeline counts from when its
// restart was due (StateRestarting waits up to 30 s, and the restart
// writes a report of its own).
func (st Status) Stale(now time.Time) bool {
	from := st.UpdatedAt
	if st.State == StateRestarting && st.RestartAt.After(from) {
		from = st.RestartAt
	}
	return now.Sub(from) > StaleAfter
}
