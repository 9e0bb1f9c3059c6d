package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StatusFile is the name of the status snapshot a running walrelay writes
// into its data directory every progress report, when a session starts and
// when the pipeline halts (status_restart.go); `walrelay status` reads it.
const StatusFile = "status.json"

// Status is what a running walrelay reports about itself.
type Status struct {
	// PID is the process that wrote the report; StatusProcess tells
	// whether it still runs.
	PID        int       `json:"pid"`
	Slot       string    `json:"slot"`
	UpdatedAt  time.Time `json:"updated_at"`
	Checkpoint string    `json:"checkpoint"`
	// ServerWALEnd is the server's current WAL position (polled, or the
	// walsender's newer report) and LagBytes that minus Checkpoint: what
	// walrelay_lag_bytes and `walrelay status` show as the lag.
	ServerWALEnd   string `json:"server_wal_end"`
	LagBytes       int64  `json:"lag_bytes"`
	Events         uint64 `json:"events"`
	InflightEvents int    `json:"inflight_events"`
	// HeartbeatLagMS is the Run's end-to-end lag as of UpdatedAt, as
	// walrelay_heartbeat_lag_seconds reads it, measured by the heartbeat
	// emitted at HeartbeatAt; nil if none was measured yet. With
	// HeartbeatWaiting that heartbeat is not acknowledged yet: the lag is
	// its wait, and grows until Kafka acknowledges it. HeartbeatIntervalMS
	// is heartbeat.interval (0: heartbeats are off), so that a missing lag
	// can be told from heartbeats being off.
	HeartbeatLagMS      *int64    `json:"heartbeat_lag_ms,omitempty"`
	HeartbeatAt         time.Time `json:"heartbeat_at,omitzero"`
	HeartbeatWaiting    bool      `json:"heartbeat_waiting,omitempty"`
	HeartbeatIntervalMS int64     `json:"heartbeat_interval_ms,omitempty"`
	// CommitLagMS is how long after its commit Kafka acknowledged the newest
	// transaction with events, as of CommitLagAt; CommitLagMaxMS the longest
	// such time since the previous report (0 if none was acknowledged).
	CommitLagMS    *int64    `json:"commit_lag_ms,omitempty"`
	CommitLagMaxMS *int64    `json:"commit_lag_max_ms,omitempty"`
	CommitLagAt    time.Time `json:"commit_lag_at,omitzero"`
	// Snapshot is the progress of this process's snapshot, if it took one.
	Snapshot *SnapshotStatus `json:"snapshot,omitempty"`
	// State is what the pipeline does: StateStreaming, StateRestarting
	// (halted, waiting until RestartAt to restart from the checkpoint) or
	// StateStarting (a session is setting up: restarted after a halt, or
	// creating a slot that waits, SlotWait); "" in the reports
	// a snapshot writes, and in those of older walrelays.
	State     string    `json:"state,omitempty"`
	RestartAt time.Time `json:"restart_at,omitzero"`
	// Halts counts the times this process's pipeline halted and restarted
	// from the checkpoint; LastError is the newest halt's error, at
	// LastErrorAt.
	Halts       int       `json:"halts,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// SlotWait is set in the reports a session setting up writes while
	// creating a replication slot (its own, or a snapshot's temporary one)
	// waits for transactions open on the server (slot_wait_status.go).
	SlotWait *SlotWaitStatus `json:"slot_wait,omitempty"`
}

// The states of Status.State.
const (
	StateStreaming  = "streaming"
	StateRestarting = "restarting"
	StateStarting   = "starting"
)

// WriteStatus replaces <dir>/status.json atomically.
func WriteStatus(dir string, st Status) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, StatusFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	return os.Rename(tmp, filepath.Join(dir, StatusFile))
}

// ReadStatus reads <dir>/status.json; os.ErrNotExist when walrelay never ran there.
func ReadStatus(dir string) (Status, error) {
	var st Status
	data, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%s: %w", filepath.Join(dir, StatusFile), err)
	}
	return st, nil
}
