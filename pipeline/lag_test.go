package pipeline

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
)

// lagSession is a streaming session as far as the lag is concerned: a
// tracker, a committer that persisted nothing yet (or persisted), the
// reader's positions, and a log into out.
func lagSession(t *testing.T, out *bytes.Buffer) *session {
	t.Helper()
	cfg := &config.Config{DataDir: t.TempDir()}
	cfg.Postgres.Slot = "lagslot"
	s := &session{cfg: cfg, log: zerolog.New(out), rs: &runState{}}
	s.tracker = checkpoint.NewTracker(100, 1<<20)
	s.committer = checkpoint.NewCommitter(s.tracker, nil, "lagslot", 0, zerolog.Nop())
	s.reader.s = s
	s.reader.pub = &publisher{s: s}
	return s
}

// TestLagFromServerPosition: the lag is the server's WAL position (as
// polled) minus the persisted checkpoint, also while the reader has
// received nothing past the checkpoint (a backlog it has not read, or a
// large transaction whose changes lie before the checkpoint): the old gauge
// measured only what the walsender had sent, and read 0 then. A walsender
// report newer than the last poll counts too.
func TestLagFromServerPosition(t *testing.T) {
	var out bytes.Buffer
	s := lagSession(t, &out)
	m := newMetrics()
	m.streaming(s)
	gauge := func(name string) float64 {
		t.Helper()
		fams, err := m.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == name {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	s.reader.walEndSeen.Store(0x1000)   // what the walsender sent
	s.reader.serverEnd.Store(0x1000000) // the server's WAL position: a 16 MiB backlog
	if lag, end := gauge("walrelay_lag_bytes"), gauge("walrelay_server_wal_end_lsn"); lag != 0x1000000 || end != 0x1000000 {
		t.Errorf("lag_bytes %v, server_wal_end_lsn %v; want the polled position 16777216 for both (nothing persisted)", lag, end)
	}
	s.reader.walEndSeen.Store(0x2000000) // a keepalive newer than the last poll
	if lag := gauge("walrelay_lag_bytes"); lag != 0x2000000 {
		t.Errorf("lag_bytes %v after a newer walsender report, want 33554432", lag)
	}

	s.reader.report()
	var line struct {
		Message       string `json:"message"`
		LagBytes      int64  `json:"lag_bytes"`
		ServerWALEnd  string `json:"server_wal_end"`
		Checkpoint    string `json:"checkpoint"`
		InflightBytes int64  `json:"inflight_bytes"`
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || line.Message != "progress" {
		t.Fatalf("progress line %q: %v", out.String(), err)
	}
	if line.LagBytes != 0x2000000 || line.ServerWALEnd != event.LSN(0x2000000).String() {
		t.Errorf("progress line: lag_bytes %d, server_wal_end %s; want 33554432, %s", line.LagBytes, line.ServerWALEnd,
			event.LSN(0x2000000))
	}
	st, err := ReadStatus(s.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.LagBytes != line.LagBytes || st.ServerWALEnd != line.ServerWALEnd {
		t.Errorf("status.json: lag_bytes %d, server_wal_end %s; the progress line said %d, %s", st.LagBytes, st.ServerWALEnd,
			line.LagBytes, line.ServerWALEnd)
	}
}

// TestLagBytes: the lag never goes negative (a checkpoint confirmed from a
// keepalive may be ahead of the last poll).
func TestLagBytes(t *testing.T) {
	for _, c := range []struct {
		end, persisted event.LSN
		want           int64
	}{{0x2000, 0x1000, 0x1000}, {0x1000, 0x1000, 0}, {0x1000, 0x2000, 0}, {0, 0x2000, 0}} {
		if got := lagBytes(c.end, c.persisted); got != c.want {
			t.Errorf("lagBytes(%s, %s) = %d, want %d", c.end, c.persisted, got, c.want)
		}
	}
}
