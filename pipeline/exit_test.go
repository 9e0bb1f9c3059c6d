package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
)

// TestStoppedLineAfterHalt (audit m5, m9): a stop while a halted pipeline
// waits to restart, after a session that failed to set up, is not drained
// (the halted session's reads are sent again); the line prints at log.level
// warn, with the signal as the reason and the checkpoint.
func TestStoppedLineAfterHalt(t *testing.T) {
	var buf bytes.Buffer
	log := zerolog.New(&buf).Level(zerolog.WarnLevel)
	halted := &session{streamed: true, stop: &stopReport{lsn: 0x100, undrained: "the pipeline halted", unacked: 3}}
	var x runExit
	x.ended(halted)
	x.ended(&session{stored: checkpoint.Position{LSN: 0x100}, found: true}) // failed in set-up
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated signal received"))
	x.log(ctx, log, nil)
	var f map[string]any
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	want := map[string]any{"message": "stopped", "drained": false, "unacked_events": 3.0, "lsn": "0/100",
		"reason": "terminated signal received", "exit_code": 0.0, "not_drained": "the pipeline halted"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("stopped line %s = %v, want %v (line %s)", k, f[k], v, buf.String())
		}
	}
}
