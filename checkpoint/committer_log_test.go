package checkpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestCheckpointLineIsDebug: a save's "checkpoint" line is written at debug
// level only (audit m11: at info it came once a second, 86k lines a day,
// repeating the progress line), and its fields differ in name from the
// progress line's where they differ in meaning: the WAL received past the
// checkpoint is received_lag_bytes, not lag_bytes (which the progress line
// uses for the server's position minus the checkpoint); inflight_* are
// spelt as the progress line, the metrics and status.json spell them; the
// save's duration says its unit.
func TestCheckpointLineIsDebug(t *testing.T) {
	t.Parallel()
	save := func(level zerolog.Level) string {
		var out bytes.Buffer
		tr := NewTracker(10, 1000)
		c := NewCommitter(tr, &memStore{}, "walrelay", time.Hour, zerolog.New(&out).Level(level))
		tr.Begin(100).Commit(101)
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if out := save(zerolog.InfoLevel); out != "" {
		t.Errorf("a save at log level info wrote %q", out)
	}
	out := save(zerolog.DebugLevel)
	var line map[string]any
	if err := json.Unmarshal([]byte(out), &line); err != nil || line["message"] != "checkpoint" || line["level"] != "debug" {
		t.Fatalf("checkpoint line %q: %v", out, err)
	}
	for _, name := range []string{"received_lag_bytes", "inflight_events", "inflight_bytes", "took_seconds", "lsn", "slot"} {
		if _, ok := line[name]; !ok {
			t.Errorf("no %s in %s", name, out)
		}
	}
	for _, name := range []string{"lag_bytes", "in_flight_events", "in_flight_bytes", "took"} {
		if _, ok := line[name]; ok {
			t.Errorf("%s in %s", name, out)
		}
	}
}
