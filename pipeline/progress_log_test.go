package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// TestAckLagWindowHoldsNewest: the progress report's longest commit lag of
// a window is never below its newest (audit m11: a window in which nothing
// was acknowledged reported commit_lag_max 0 next to a commit_lag of 26 s,
// and status "longest since the report before: 0.000 s"). The window holds
// the newest lag, measured in it or before; a longer lag of an earlier
// window is not carried over.
func TestAckLagWindowHoldsNewest(t *testing.T) {
	t.Parallel()
	var a ackLag
	a.set(200 * time.Millisecond)
	a.set(10 * time.Millisecond)
	if last, longest, _ := a.take(); last != 10*time.Millisecond || longest != 200*time.Millisecond {
		t.Errorf("first window: newest %s, longest %s; want 10ms, 200ms", last, longest)
	}
	if last, longest, _ := a.take(); last != 10*time.Millisecond || longest != 10*time.Millisecond {
		t.Errorf("idle window: newest %s, longest %s; want 10ms for both", last, longest)
	}
	a.set(5 * time.Millisecond)
	if last, longest, _ := a.take(); last != 5*time.Millisecond || longest != 5*time.Millisecond {
		t.Errorf("window after an idle one: newest %s, longest %s; want 5ms for both", last, longest)
	}
}

// progressLine is the "progress" line as JSON, by field.
func progressLine(t *testing.T, out string) map[string]any {
	t.Helper()
	var line map[string]any
	if err := json.Unmarshal([]byte(out), &line); err != nil || line["message"] != "progress" {
		t.Fatalf("progress line %q: %v", out, err)
	}
	return line
}

// TestProgressLineFields: the progress line's durations are seconds and
// say so in their names, as the metrics' do (audit m11: bare
// milliseconds; heartbeat_lag_seconds is written the same way, with
// heartbeats); it spells inflight_events as the metric and status.json
// do, and the idle window's commit_lag_max is the newest commit_lag, as
// status.json's is.
func TestProgressLineFields(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := lagSession(t, &out)
	s.reader.pub = newPublisher(s)
	s.ackLag.set(2500 * time.Millisecond)
	s.ackLag.take() // the window before
	s.reader.report()
	line := progressLine(t, out.String())
	for name, want := range map[string]float64{"commit_lag_seconds": 2.5, "commit_lag_max_seconds": 2.5} {
		if got, ok := line[name].(float64); !ok || got != want {
			t.Errorf("%s %v, want %v: %s", name, line[name], want, out.String())
		}
	}
	for _, name := range []string{"commit_lag", "commit_lag_max", "heartbeat_lag", "in_flight_events"} {
		if _, ok := line[name]; ok {
			t.Errorf("the progress line has %s: %s", name, out.String())
		}
	}
	if _, ok := line["inflight_events"]; !ok || line["state"] != StateStreaming || line["slot"] != "lagslot" {
		t.Errorf("no inflight_events, state streaming or slot lagslot: %s", out.String())
	}
	st, err := ReadStatus(s.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.CommitLagMaxMS == nil || *st.CommitLagMaxMS != 2500 {
		t.Errorf("status.json commit_lag_max_ms %s, want 2500 (the newest)", fmtMS(st.CommitLagMaxMS))
	}
}

// fmtMS formats a status.json duration, nil as "none".
func fmtMS(ms *int64) string {
	if ms == nil {
		return "none"
	}
	return strconv.FormatInt(*ms, 10)
}

// progressLines returns the progress lines written to b so far.
func progressLines(b *syncBuffer) []string {
	var ls []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if strings.Contains(l, `"message":"progress"`) {
			ls = append(ls, l)
		}
	}
	return ls
}

// TestProgressWhileHalted: while the pipeline is down (halted in the
// backoff, or a restarted session setting up) a progress line is written
// every progress interval, with the state, the checkpoint, the cause and
// how long it has been down (audit m11: none was written during an
// outage); none once a session streams again, nor after Run returns.
func TestProgressWhileHalted(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	var scratch bytes.Buffer
	s := lagSession(t, &scratch)
	s.log = zerolog.New(&out)
	s.rs.down.every = 30 * time.Millisecond
	s.rs.halted(s, errors.New("kafka: cannot reach brokers"), time.Now().Add(time.Hour))
	waitLines := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(progressLines(&out)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d progress lines while halted, want %d", len(progressLines(&out)), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return progressLines(&out)
	}
	ls := waitLines(2)
	first, second := progressLine(t, ls[0]), progressLine(t, ls[1])
	if first["state"] != StateRestarting || first["last_error"] != "kafka: cannot reach brokers" || first["halts"] != 1.0 ||
		first["slot"] != "lagslot" || first["checkpoint"] == nil {
		t.Errorf("halted progress line: %s", ls[0])
	}
	if r, _ := first["retry_in_seconds"].(float64); r <= 3500 || r > 3600 {
		t.Errorf("retry_in_seconds %v, want about 3600: %s", first["retry_in_seconds"], ls[0])
	}
	if d1, d2 := first["down_seconds"].(float64), second["down_seconds"].(float64); d2 <= d1 {
		t.Errorf("down_seconds %v then %v, want it growing", d1, d2)
	}

	s.rs.starting(s) // the restarted session sets up: still down
	n := len(waitLines(len(progressLines(&out)) + 1))
	if line := progressLine(t, progressLines(&out)[n-1]); line["state"] != StateStarting {
		t.Errorf("progress line while the session sets up: %v", line)
	}
	s.streamingStatus() // it streams: the reader reports from now on
	n = len(progressLines(&out))
	time.Sleep(100 * time.Millisecond)
	if got := len(progressLines(&out)); got != n {
		t.Errorf("%d progress lines of a halted pipeline after it streamed again", got-n)
	}

	s.rs.halted(s, errors.New("again"), time.Now().Add(time.Hour))
	waitLines(n + 1)
	s.rs.close() // Run returns
	n = len(progressLines(&out))
	time.Sleep(100 * time.Millisecond)
	if got := len(progressLines(&out)); got != n {
		t.Errorf("%d progress lines after Run returned", got-n)
	}
}

// TestProgressWhileHaltedLag: each progress line of a pipeline that is down
// measures the lag anew (the server's WAL grows during an outage), with the
// streaming line's names: checkpoint, server_wal_end, lag_bytes.
func TestProgressWhileHaltedLag(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	var mu sync.Mutex
	end := event.LSN(0x2000)
	lag := func() (event.LSN, event.LSN, bool) {
		mu.Lock()
		defer mu.Unlock()
		end += 0x1000
		return 0x1000, end, true
	}
	p := downProgress{every: 20 * time.Millisecond}
	p.down(zerolog.New(&out), Status{State: StateRestarting, Slot: "s", Checkpoint: "0/800"}, lag)
	defer p.up()
	deadline := time.Now().Add(10 * time.Second)
	for len(progressLines(&out)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no two progress lines while halted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ls := progressLines(&out)
	first, second := progressLine(t, ls[0]), progressLine(t, ls[1])
	if first["checkpoint"] != "0/1000" || first["server_wal_end"] != "0/3000" || first["lag_bytes"] != float64(0x2000) {
		t.Errorf("first line: %s; want checkpoint 0/1000, server_wal_end 0/3000, lag_bytes 8192", ls[0])
	}
	if second["lag_bytes"] != float64(0x3000) {
		t.Errorf("second line: %s; want lag_bytes 12288, measured again", ls[1])
	}
}
