package pipeline

import (
	"time"

	"github.com/walrelay/walrelay/snapshot"
)

// SnapshotStatus is the progress of the snapshot, written into the status
// file under "snapshot" while it runs and once it completed.
type SnapshotStatus struct {
	State         string                 `json:"state"` // running or done
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
