package pipeline

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

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
	s.reader.pub = &publisher{s: s, heartbeat: &s.rs.heartbeat}
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
	gauge := func(name string) float64 { return gaugeValue(t, m, name) }
	s.reader.walEndSeen.Store(0x1000)                 // what the walsender sent
	s.reader.server.Store(&walSample{end: 0x1000000}) // the server's WAL position: a 16 MiB backlog
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

// TestLagBytes: walrelay_lag_bytes combines the last poll of the server's
// position (with the checkpoint of that moment), the walsender's newest
// report and the checkpoint now. It never goes negative, and it reads 0
// only when the last poll found the checkpoint at the server's position and
// nothing newer shows WAL past the checkpoint (audit m2: it read 0 near the
// end of a backlog, once the checkpoint had passed a poll up to 2 s old,
// while the server had MBs more).
func TestLagBytes(t *testing.T) {
	t.Parallel()
	const mb = 1 << 20
	for _, c := range []struct {
		name                string
		sample              walSample
		reported, persisted event.LSN
		want                int64
	}{
		{"backlog, as polled", walSample{end: 100 * mb, checkpoint: 10 * mb}, 11 * mb, 10 * mb, 90 * mb},
		{"checkpoint moved since the poll: the lag measured then", walSample{end: 100 * mb, checkpoint: 10 * mb}, 60 * mb, 50 * mb, 90 * mb},
		// Audit m2: the checkpoint (a commit's end) passed the polled
		// position; the walsender's last report is that commit's start.
		{"checkpoint passed the poll", walSample{end: 100 * mb, checkpoint: 95*mb + 512*1024}, 100*mb + 100, 100*mb + 200, 4*mb + 512*1024},
		{"checkpoint at the poll", walSample{end: 100 * mb, checkpoint: 99 * mb}, 100 * mb, 100 * mb, mb},
		{"walsender reported WAL past the poll", walSample{end: 100 * mb, checkpoint: 100 * mb}, 103 * mb, 101 * mb, 2 * mb},
		{"walsender's report larger than the poll's lag", walSample{end: 100 * mb, checkpoint: 99 * mb}, 130 * mb, 100 * mb, 30 * mb},
		{"caught up at the poll, nothing newer", walSample{end: 100 * mb, checkpoint: 100 * mb}, 100 * mb, 100 * mb, 0},
		{"idle: checkpoint confirmed from a keepalive past the poll", walSample{end: 100 * mb, checkpoint: 100 * mb}, 101 * mb, 101 * mb, 0},
		{"before the first poll", walSample{}, 0x2000, 0x1000, 0x1000},
		{"before the first poll, nothing read", walSample{}, 0x1000, 0x2000, 0},
		{"after a failed poll: the walsender's report", walSample{end: 100 * mb, checkpoint: 100 * mb}, 120 * mb, 110 * mb, 10 * mb},
	} {
		if got := lagBytes(c.sample, c.reported, c.persisted); got != c.want {
			t.Errorf("%s: lagBytes(%+v, %s, %s) = %d, want %d", c.name, c.sample, c.reported, c.persisted, got, c.want)
		}
	}
}

// TestWALPollerDue: the poller reads the server's position at once, every
// serverWALEvery, and again soon (serverWALRepollAfter) once the checkpoint
// has passed the position it last read, which it checks every
// serverWALRecheck; not sooner while the checkpoint has not moved since the
// poll (idle) or has not reached its position, nor while polls fail.
func TestWALPollerDue(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var persisted event.LSN
	p := &walPoller{persisted: func() event.LSN { return persisted }}
	if !p.due(t0, nil) {
		t.Fatal("no first poll")
	}
	p.last = t0
	for _, c := range []struct {
		name      string
		after     time.Duration
		sample    walSample
		persisted event.LSN
		want      bool
	}{
		{"lag not worked off", serverWALRepollAfter, walSample{end: 0x2000, checkpoint: 0x1000}, 0x1fff, false},
		{"checkpoint reached the polled position", serverWALRepollAfter, walSample{end: 0x2000, checkpoint: 0x1000}, 0x2000, true},
		{"checkpoint passed it", serverWALRepollAfter, walSample{end: 0x2000, checkpoint: 0x1000}, 0x3000, true},
		{"passed, but just polled", serverWALRepollAfter - time.Millisecond, walSample{end: 0x2000, checkpoint: 0x1000}, 0x3000, false},
		{"idle: caught up at the poll", serverWALRepollAfter, walSample{end: 0x2000, checkpoint: 0x2000}, 0x2000, false},
		{"checkpoint moved by a keepalive past the poll", serverWALRepollAfter, walSample{end: 0x2000, checkpoint: 0x2000}, 0x2100, true},
		{"periodic", serverWALEvery, walSample{end: 0x2000, checkpoint: 0x2000}, 0x2000, true},
	} {
		persisted = c.persisted
		if got := p.due(t0.Add(c.after), &c.sample); got != c.want {
			t.Errorf("%s: due %v, want %v", c.name, got, c.want)
		}
	}
	// While polls fail, only every serverWALEvery.
	p.failing, persisted = true, 0x3000
	if p.due(t0.Add(serverWALRepollAfter), &walSample{end: 0x2000, checkpoint: 0x2000}) || !p.due(t0.Add(serverWALEvery), nil) {
		t.Errorf("failing: due after %s, or not after %s", serverWALRepollAfter, serverWALEvery)
	}
}

// TestRefreshServerWAL: a scrape asks the poller for a poll unless the
// last one is fresh, waits for it, and gives up after its wait when the
// poller does not answer, at once when none runs; concurrent scrapes share
// one poll.
func TestRefreshServerWAL(t *testing.T) {
	t.Parallel()
	var r reader
	r.polling.Store(true)
	r.server.Store(&walSample{end: 1, at: time.Now()})
	r.refreshServerWAL(time.Hour) // fresh: no request, no wait
	if n := len(r.pollRequests()); n != 0 {
		t.Fatalf("%d requests for a fresh sample", n)
	}

	r.server.Store(&walSample{end: 1, at: time.Now().Add(-time.Second)})
	polls := make(chan int, 10)
	go func() { // the poller
		n := 0
		for done := range r.pollRequests() {
			n++
			time.Sleep(20 * time.Millisecond) // the query
			r.server.Store(&walSample{end: 2, at: time.Now()})
			close(done)
			polls <- n
		}
	}()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { r.refreshServerWAL(10 * time.Second) })
	}
	wg.Wait()
	if got := r.polled().end; got != 2 {
		t.Errorf("after the scrapes the sample reads %s, want the new poll's 0/2", got)
	}
	if n := <-polls; n != 1 || len(polls) != 0 {
		t.Errorf("%d polls (%d more queued) for 3 concurrent scrapes, want 1", n, len(polls))
	}
	close(r.pollReq)

	var stuck reader // a poller that does not answer: the scrape waits its time, then reads what there is
	stuck.polling.Store(true)
	start := time.Now()
	stuck.refreshServerWAL(50 * time.Millisecond)
	stuck.refreshServerWAL(50 * time.Millisecond) // the first request is still pending
	if took := time.Since(start); took < 100*time.Millisecond || took > 5*time.Second {
		t.Errorf("two scrapes of a poller that does not answer took %s, want their waits (100ms)", took)
	}
	var idle reader // no poller (not streaming yet, or stopped): no wait
	start = time.Now()
	idle.refreshServerWAL(time.Hour)
	if took := time.Since(start); took > 5*time.Second || len(idle.pollRequests()) != 0 {
		t.Errorf("a scrape without a poller took %s and left %d requests", took, len(idle.pollRequests()))
	}
}
