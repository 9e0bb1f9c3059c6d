package pipeline

import (
	"time"

	"github.com/walrelay/walrelay/snapshot"
)

// SnapshotInterrupted is the State of a snapshot that ended before it
// completed (a stop, a halt): nothing marks it complete, so the next start
// (or restarted session) takes it again from its start and sends its rows
// again. Its tables that were being read have that State too.
const SnapshotInterrupted = "interrupted"

// SnapshotStatus is the progress of the snapshot, written into the status
// file under "snapshot" while it runs, once it completed and when it was
// interrupted.
type SnapshotStatus struct {
	State         string                 `json:"state"` // running, done or interrupted
	Reason        string                 `json:"reason"`
	LSN           string                 `json:"lsn"` // the snapshot's consistent point or WAL position
	StartedAt     time.Time              `json:"started_at"`
	RowsDone      uint64                 `json:"rows_done"`
	RowsTotal     uint64                 `json:"rows_total"`
	RowsPerSecond float64                `json:"rows_per_second"`
	ETASeconds    float64                `json:"eta_seconds"`
	Tables        []snapshot.TableStatus `json:"tables"`
}

// ReadSnapshotStatus reads the "snapshot" section of <dir>/status.json; nil
// when no snapshot ran in this process.
func ReadSnapshotStatus(dir string) (*SnapshotStatus, error) {
	st, err := ReadStatus(dir)
	if err != nil {
		return nil, err
	}
	return st.Snapshot, nil
}

// interrupt marks sn and its tables being read as SnapshotInterrupted,
// with no rate or ETA: nothing reads them any more.
func (sn *SnapshotStatus) interrupt() {
	sn.State, sn.RowsPerSecond, sn.ETASeconds = SnapshotInterrupted, 0, 0
	for i := range sn.Tables {
		t := &sn.Tables[i]
		if t.State == "running" {
			t.State = SnapshotInterrupted
		}
		t.RowsPerSecond, t.ETASeconds = 0, 0
	}
}

// snapshotInterrupted returns the status of the snapshot session s ended
// inside of, before it completed; nil when it did not (or s is nil).
func (s *session) snapshotInterrupted() *SnapshotStatus {
	if s == nil || s.snapStatus == nil || s.snapStatus.State != SnapshotInterrupted {
		return nil
	}
	return s.snapStatus
}
