package pipeline

import (
	"reflect"
	"testing"
	"time"
)

// TestParseProcLocks: the holders of a flock on the file are found by
// device and inode; POSIX and OFD locks, waiters, other files and lines
// that do not parse are not holders; a lock on the same inode of another
// device counts only when none is on the file's device.
func TestParseProcLocks(t *testing.T) {
	t.Parallel()
	const locks = `1: FLOCK  ADVISORY  WRITE 18088 fe:00:10289797 0 EOF
2: FLOCK  ADVISORY  WRITE 2223 fe:00:10292217 0 EOF
2: -> FLOCK  ADVISORY  WRITE 2224 fe:00:10292217 0 EOF
3: POSIX  ADVISORY  WRITE 24901 fe:00:10292217 0 EOF
4: OFDLCK ADVISORY  READ  -1 fe:00:10292217 0 EOF
5: FLOCK  ADVISORY  WRITE 777 00:2a:10292217 0 EOF
garbage
6: FLOCK ADVISORY WRITE x fe:00:10292217 0 EOF
7: FLOCK ADVISORY WRITE 9 fe:00 0 EOF
`
	id := fileID{major: 0xfe, minor: 0, ino: 10292217}
	for _, c := range []struct {
		name string
		id   fileID
		want []int
	}{
		{"held on the file's device", id, []int{2223}},
		{"only on the same inode of another device", fileID{major: 0x8, minor: 1, ino: 10292217}, []int{2223, 777}},
		{"another file", fileID{major: 0xfe, ino: 5}, nil},
	} {
		if got := parseProcLocks([]byte(locks), c.id); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: holders %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzParseProcLocks: any /proc/locks content parses without a panic into
// non-negative pids.
func FuzzParseProcLocks(f *testing.F) {
	f.Add([]byte("1: FLOCK  ADVISORY  WRITE 2223 fe:00:10292217 0 EOF\n"), uint64(10292217))
	f.Add([]byte("1: -> FLOCK ADVISORY WRITE 1 0:0:1 0 EOF\n2: FLOCK a b -5 0:0:1\n"), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, ino uint64) {
		for _, pid := range parseProcLocks(data, fileID{ino: ino}) {
			if pid < 0 {
				t.Fatalf("pid %d from %q", pid, data)
			}
		}
	})
}

// TestStatusStale: a report is stale past StaleAfter (three report
// periods).
func TestStatusStale(t *testing.T) {
	t.Parallel()
	now := time.Now()
	if (Status{UpdatedAt: now.Add(-ReportEvery)}).Stale(now) {
		t.Error("a report one period old is stale")
	}
	if !(Status{UpdatedAt: now.Add(-StaleAfter - time.Second)}).Stale(now) {
		t.Error("a report older than StaleAfter is not stale")
	}
}
