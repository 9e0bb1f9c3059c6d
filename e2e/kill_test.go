package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// TestKillRestartNoLoss: two clients write continuously while the relay is
// SIGKILLed six times at random moments (0.5–3 s after it starts streaming)
// and restarted each time. A monitor samples the slot's confirmed_flush_lsn
// and then the stored checkpoint every 20 ms: the slot must never be ahead of
// the checkpoint. After catch-up, every committed change is in Kafka in
// commit order per key and the last event of each key is the row's final
// state.
//
// Not parallel: its timing should not depend on other tests' load.
func TestKillRestartNoLoss(t *testing.T) {
	dsn, brokers, conn := newTestDB(t, wlDDL)
	cfg := newRelayConfig(t, dsn, brokers, wlCaptured...)
	r := startRelay(t, cfg)
	mon := startMonitor(t, cfg, dsn)
	w := newWorkload(dsn)
	cl := w.run(2, 0)
	t.Cleanup(cl.stop) // on an early failure

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	const kills = 6
	for i := range kills {
		d := 500*time.Millisecond + time.Duration(rng.Int64N(int64(2500*time.Millisecond)))
		time.Sleep(d)
		if r.exited() {
			cl.stop()
			t.Fatalf("walrelay exited by itself (%v) before kill %d", r.state, i+1)
		}
		r.kill()
		cp, stored, err := cfg.checkpoint()
		if err != nil {
			t.Errorf("checkpoint after kill %d: %v", i+1, err)
		}
		t.Logf("kill %d after %s (checkpoint %s, %d changes committed so far)", i+1, d.Round(time.Millisecond), cp, w.ops.Load())
		r = startRelay(t, cfg)
		if start := r.findLog("streaming")["start_lsn"]; stored && start != cp.String() {
			t.Errorf("restart %d streams from %v, want the stored checkpoint %s", i+1, start, cp)
		}
	}
	time.Sleep(time.Second)
	cl.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("workload: %d changes in %d committed and %d rolled-back transactions",
		w.ops.Load(), w.commits.Load(), w.aborts.Load())

	col := newCollector(t, brokers, cfg.topics()...)
	catchUp(t, cfg, conn, col, col, 3*time.Minute)
	samples, violations := mon.stop()
	t.Logf("monitor: %d samples of slot and checkpoint", samples)
	for _, v := range violations {
		t.Errorf("invariant 1: %s", v)
	}
	if samples < 100 {
		t.Errorf("monitor took only %d samples", samples)
	}
	st := verifyWorkload(t, cfg, col, w)
	checkWorkloadDB(t, dsn, w)
	t.Logf("stream: %+v", st)
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// monitor samples a relay's slot and stored checkpoint in the background.
type monitor struct {
	quit       chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	samples    int
	violations []string
	positions  []pglogrepl.LSN // the slot's distinct confirmed_flush_lsn values, in order
}

// startMonitor samples every 20 ms, until stop: the slot's
// confirmed_flush_lsn first, then checkpoint.json. The checkpoint only grows
// and is stored before the slot is confirmed, so reading it second can only
// make it larger: slot > checkpoint is a real violation. With no checkpoint
// stored yet, the slot must not move from where it was first seen.
func startMonitor(t *testing.T, cfg *relayConfig, dsn string) *monitor {
	t.Helper()
	m := &monitor{quit: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("monitor: %v", err)
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer conn.Close(context.Background())
		var first pglogrepl.LSN
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-tick.C:
			}
			first = m.sample(conn, cfg, first)
		}
	}()
	t.Cleanup(func() { m.stop() })
	return m
}

// sample takes one sample; first is the slot's first seen position.
func (m *monitor) sample(conn *pgx.Conn, cfg *relayConfig, first pglogrepl.LSN) pglogrepl.LSN {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slot, _, err := slotState(ctx, conn, cfg.Slot)
	if err != nil {
		return first // not created yet
	}
	cp, ok, err := cfg.checkpoint()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples++
	if n := len(m.positions); n == 0 || m.positions[n-1] != slot {
		m.positions = append(m.positions, slot)
	}
	switch {
	case err != nil:
		m.violate("checkpoint unreadable while the slot is at %s: %v", slot, err)
	case ok && slot > cp:
		m.violate("slot %s confirmed_flush_lsn %s > stored checkpoint %s", cfg.Slot, slot, cp)
	case !ok && first != 0 && slot != first:
		m.violate("slot %s confirmed_flush_lsn moved from %s to %s with no checkpoint stored", cfg.Slot, first, slot)
	}
	if first == 0 {
		first = slot
	}
	return first
}

func (m *monitor) violate(format string, args ...any) {
	if len(m.violations) < 20 {
		m.violations = append(m.violations, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	}
}

// stop ends sampling and returns the samples taken and the violations seen.
func (m *monitor) stop() (int, []string) {
	select {
	case <-m.quit:
	default:
		close(m.quit)
	}
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.samples, m.violations
}

// confirmed returns the slot's distinct confirmed positions seen, in order.
func (m *monitor) confirmed() []pglogrepl.LSN {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.positions
}
