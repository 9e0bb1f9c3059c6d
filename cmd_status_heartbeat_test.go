//go:build linux

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/pipeline"
)

// TestStatusHeartbeatLagLine: the end-to-end lag line is truthful when no
// acknowledged heartbeat measures it. With Kafka down (the pipeline halted,
// a heartbeat waiting for its acknowledgement) it grows with the wait, as
// walrelay_heartbeat_lag_seconds does; before the first heartbeat is
// acknowledged it says heartbeats are on. Before, both said "set
// heartbeat.interval to measure it" although it was set (the audit).
func TestStatusHeartbeatLagLine(t *testing.T) {
	now := time.Now().UTC()
	ms := func(v int64) *int64 { return &v }
	emitted := now.Add(-14 * time.Second)
	for _, c := range []struct {
		name string
		st   pipeline.Status
		want string
	}{
		{"halted, a heartbeat waits", pipeline.Status{State: pipeline.StateRestarting, RestartAt: now.Add(4 * time.Second),
			UpdatedAt: now.Add(-1 * time.Second), HeartbeatLagMS: ms(13000), HeartbeatAt: emitted, HeartbeatWaiting: true,
			HeartbeatIntervalMS: 2000, Halts: 4, LastError: "kafka: cannot reach brokers", LastErrorAt: now.Add(-time.Second)},
			"end-to-end lag  at least 14.000 s and growing: nothing emitted since " + emitted.Format(time.RFC3339) +
				" is acknowledged by Kafka (the pipeline is down)"},
		{"streaming, a heartbeat waited", pipeline.Status{State: pipeline.StateStreaming, UpdatedAt: now.Add(-4 * time.Second),
			HeartbeatLagMS: ms(10000), HeartbeatAt: emitted, HeartbeatWaiting: true, HeartbeatIntervalMS: 2000},
			"end-to-end lag  10.000 s or more: the heartbeat of " + emitted.Format(time.RFC3339) +
				" was not acknowledged by Kafka yet at the report 4s ago"},
		{"none acknowledged yet", pipeline.Status{State: pipeline.StateStreaming, UpdatedAt: now.Add(-8 * time.Second),
			HeartbeatIntervalMS: 2000},
			"end-to-end lag  unknown: no heartbeat acknowledged yet (heartbeat.interval 2s;"},
		{"heartbeats off", pipeline.Status{State: pipeline.StateStreaming, UpdatedAt: now},
			"end-to-end lag  unknown (set heartbeat.interval to measure it)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.st.PID, c.st.Slot = os.Getpid(), "s"
			if err := pipeline.WriteStatus(dir, c.st); err != nil {
				t.Fatal(err)
			}
			holdDataDir(t, dir)
			var out bytes.Buffer
			printRunning(&out, dir, now)
			if got := strings.Join(strings.Fields(out.String()), " "); !strings.Contains(got, strings.Join(strings.Fields(c.want), " ")) {
				t.Errorf("want %q in:\n%s", c.want, out.String())
			}
		})
	}
}
