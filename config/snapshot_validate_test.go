package config

import (
	"errors"
	"strings"
	"testing"
)

func TestSnapshotDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(writeConfig(t, minimal), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Snapshot.Mode != SnapshotInitial || c.Snapshot.Parallelism != 2 || c.Snapshot.ChunkSize != 50000 {
		t.Errorf("snapshot defaults: %+v", c.Snapshot)
	}
	c, err = Load(writeConfig(t, minimal), []string{"WALRELAY_SNAPSHOT_MODE=when_needed", "WALRELAY_SNAPSHOT_PARALLELISM=4"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Snapshot.Mode != SnapshotWhenNeeded || c.Snapshot.Parallelism != 4 {
		t.Errorf("snapshot env overrides: %+v", c.Snapshot)
	}
}

func TestSnapshotValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body, key, msg string
	}{
		{"snapshot:\n  mode: sometimes\n", "snapshot.mode", `unknown mode "sometimes"`},
		{"snapshot:\n  parallelism: -1\n", "snapshot.parallelism", "out of range"},
		{"snapshot:\n  parallelism: 65\n", "snapshot.parallelism", "out of range"},
		{"snapshot:\n  chunk_size: 10\n", "snapshot.chunk_size", "too small"},
		{"snapshot:\n  catchup: later\n", "snapshot.catchup", `unknown mode "later"`},
		{"snapshot:\n  catchup_chunk_size: -5\n", "snapshot.catchup_chunk_size", "out of range"},
	}
	for _, tc := range cases {
		_, err := Load(writeConfig(t, minimal+tc.body), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) || ce.Line == 0 {
			t.Errorf("%q: error %v, want %s: %s with a line number", tc.body, err, tc.key, tc.msg)
		}
	}
	for _, mode := range []string{"incremental", "blocking"} {
		if _, err := Load(writeConfig(t, minimal+"snapshot:\n  catchup: "+mode+"\n"), nil); err != nil {
			t.Errorf("catchup %s: %v", mode, err)
		}
	}
	for _, mode := range []string{"initial", "never", "always", "initial_only", "when_needed"} {
		if _, err := Load(writeConfig(t, minimal+"snapshot:\n  mode: "+mode+"\n"), nil); err != nil {
			t.Errorf("mode %s: %v", mode, err)
		}
	}
}
