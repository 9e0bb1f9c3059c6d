package checkpoint

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// memStore is an in-memory Store that records what it made durable and can
// be made slow or failing.
type memStore struct {
	mu      sync.Mutex
	saves   []event.LSN
	durable atomic.Uint64 // newest LSN whose Save returned nil, set before returning
	gate    chan struct{} // when set, Save waits for a value on it
	err     error
}

func (m *memStore) Load(context.Context) (Position, bool, error) { return Position{}, false, nil }
func (m *memStore) Close() error                                 { return nil }

func (m *memStore) Save(ctx context.Context, p Position) error {
	m.mu.Lock()
	gate, err := m.gate, m.err
	m.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.saves = append(m.saves, p.LSN)
	m.mu.Unlock()
	if uint64(p.LSN) > m.durable.Load() {
		m.durable.Store(uint64(p.LSN))
	}
	return nil
}

func (m *memStore) saved() []event.LSN {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]event.LSN(nil), m.saves...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCommitterSavesWhenWatermarkMoves(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	tr.SetWatermark(100)
	st := &memStore{}
	c := NewCommitter(tr, st, "walrelay", 20*time.Millisecond, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	waitFor(t, "the starting position to be saved", func() bool { return c.Persisted() == 100 })
	x := tr.Begin(150)
	ack := acquireTrack(t, tr, x, 1)
	x.Commit(160)
	time.Sleep(60 * time.Millisecond) // several intervals: nothing new to save
	if c.Persisted() != 100 {
		t.Fatalf("Persisted %s before the transaction was acked", c.Persisted())
	}
	ack()
	waitFor(t, "0/A0 to be saved", func() bool { return c.Persisted() == 160 })
	time.Sleep(60 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	if got := st.saved(); len(got) != 2 || got[0] != 100 || got[1] != 160 {
		t.Fatalf("saves %v, want [0/64 0/A0] (no save when the watermark did not move)", got)
	}
}

// Persisted must never run ahead of what Save has returned, even while a
// Save is in progress and the watermark keeps moving.
func TestCommitterPersistedNeverAheadOfSave(t *testing.T) {
	t.Parallel()
	tr := NewTracker(1<<20, 1<<30)
	gate := make(chan struct{})
	st := &memStore{gate: gate}
	c := NewCommitter(tr, st, "walrelay", time.Millisecond, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	stop := make(chan struct{})
	violation := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(violation)
				return
			default:
			}
			p := c.Persisted()
			if d := event.LSN(st.durable.Load()); p > d {
				violation <- "Persisted " + p.String() + " > durable " + d.String()
				return
			}
		}
	}()
	go func() { // let saves through slowly
		for {
			select {
			case gate <- struct{}{}:
				time.Sleep(time.Millisecond)
			case <-ctx.Done():
				return
			}
		}
	}()
	for i := range 300 {
		tr.Begin(event.LSN(10*i + 1)).Commit(event.LSN(10*i + 5))
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(t, "the last watermark to be persisted", func() bool { return c.Persisted() == 10*299+5 })
	close(stop)
	if msg, ok := <-violation; ok {
		t.Fatal(msg)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCommitterSaveErrorPropagates(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	tr.SetWatermark(100)
	boom := errors.New("disk full")
	st := &memStore{err: boom}
	c := NewCommitter(tr, st, "walrelay", 10*time.Millisecond, zerolog.Nop())
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want the Save error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return the Save error")
	}
	if c.Persisted() != 0 {
		t.Fatalf("Persisted %s after a failed save, want 0/0", c.Persisted())
	}
	if err := c.Flush(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want the Save error", err)
	}
	// After the store recovers, a Flush saves and publishes.
	st.mu.Lock()
	st.err = nil
	st.mu.Unlock()
	if err := c.Flush(context.Background()); err != nil || c.Persisted() != 100 {
		t.Fatalf("Flush after recovery = %v, Persisted %s; want nil, 0/64", err, c.Persisted())
	}
}

func TestCommitterSavesOnChangedWithoutWaitingForTick(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	st := &memStore{}
	c := NewCommitter(tr, st, "walrelay", time.Second, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Run(ctx) }()
	time.Sleep(1100 * time.Millisecond) // past one interval since the last attempt
	start := time.Now()
	tr.Begin(10).Commit(11)
	waitFor(t, "a save after Changed", func() bool { return c.Persisted() == 11 })
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Fatalf("save after Changed took %s; want it before the next tick", d)
	}
}

func TestCommitterFlushWithFileStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fsStore, err := NewFileStore(dir, "walrelay")
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(10, 1000)
	c := NewCommitter(tr, fsStore, "walrelay", time.Hour, zerolog.Nop())
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := fsStore.Load(context.Background()); ok {
		t.Fatal("Flush saved a zero watermark")
	}
	tr.Begin(0x16B3700).Commit(0x16B3748)
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, ok, err := fsStore.Load(context.Background())
	if err != nil || !ok || p.LSN != 0x16B3748 || c.Persisted() != 0x16B3748 {
		t.Fatalf("after Flush: stored %s (%v, %v), Persisted %s; want 0/16B3748", p.LSN, ok, err, c.Persisted())
	}
}
