package pipeline

import (
	"testing"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

func TestDecideSnapshot(t *testing.T) {
	t.Parallel()
	const stored event.LSN = 0x5000
	ok := replication.SlotInfo{Exists: true, ConfirmedFlush: 0x4000}
	ahead := replication.SlotInfo{Exists: true, ConfirmedFlush: 0x6000}
	missing := replication.SlotInfo{}
	lost := replication.SlotInfo{Exists: true, ConfirmedFlush: 0x4000, WALStatus: "lost"}
	removed := replication.SlotInfo{Exists: true, ConfirmedFlush: 0x4000, WALStatus: "lost", InvalidationReason: "wal_removed"}
	cases := []struct {
		mode  string
		found bool
		slot  replication.SlotInfo
		take  bool
	}{
		{config.SnapshotNever, false, missing, false},
		{config.SnapshotNever, false, ok, false},
		{config.SnapshotInitial, false, missing, true},
		{config.SnapshotInitial, false, ok, true}, // an interrupted snapshot is taken again
		{config.SnapshotInitial, true, ok, false},
		{config.SnapshotInitial, true, missing, false}, // the gap error stays
		{config.SnapshotInitialOnly, false, missing, true},
		{config.SnapshotInitialOnly, true, ok, false},
		{config.SnapshotWhenNeeded, false, missing, true},
		{config.SnapshotWhenNeeded, true, ok, false},
		{config.SnapshotWhenNeeded, true, missing, true},
		{config.SnapshotWhenNeeded, true, ahead, true},
		{config.SnapshotWhenNeeded, true, lost, true},
		{config.SnapshotWhenNeeded, true, removed, true},
		{config.SnapshotInitial, true, lost, false}, // startPosition refuses it
		{config.SnapshotNever, true, lost, false},
		{config.SnapshotAlways, true, ok, true},
	}
	for _, tc := range cases {
		cfg := &config.Config{Snapshot: config.Snapshot{Mode: tc.mode}}
		d := decideSnapshot(cfg, false, tc.found, tc.slot, stored)
		if d.take != tc.take || d.take && d.reason == "" {
			t.Errorf("mode %s found %v slot %+v: %+v, want take %v with a reason", tc.mode, tc.found, tc.slot, d, tc.take)
		}
	}
	cfg := &config.Config{Snapshot: config.Snapshot{Mode: config.SnapshotAlways}}
	if d := decideSnapshot(cfg, true, true, ok, stored); d.take {
		t.Errorf("always: a restarted session of the same Run snapshots again: %+v", d)
	}
	if d := decideSnapshot(cfg, false, true, ok, stored); !d.take {
		t.Error("always: a new Run does not snapshot")
	}
}
