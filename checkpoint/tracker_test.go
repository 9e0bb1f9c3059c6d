package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// acquireAsync starts Acquire in a goroutine and returns its result channel.
func acquireAsync(ctx context.Context, tr *Tracker, size int) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- tr.Acquire(ctx, size) }()
	return ch
}

func mustBlock(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s: Acquire returned %v, want it to block", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

func mustReturn(t *testing.T, ch <-chan error, want error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		if !errors.Is(err, want) {
			t.Fatalf("%s: Acquire returned %v, want %v", what, err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: Acquire still blocked", what)
	}
}

func acquireTrack(t *testing.T, tr *Tracker, x *Txn, size int) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := tr.Acquire(ctx, size); err != nil {
		t.Fatalf("Acquire(%d): %v", size, err)
	}
	return x.Track(size)
}

func TestAcquireBlocksAtMaxEvents(t *testing.T) {
	t.Parallel()
	tr := NewTracker(2, 1<<20)
	x := tr.Begin(1)
	a1 := acquireTrack(t, tr, x, 10)
	_ = acquireTrack(t, tr, x, 10)
	ch := acquireAsync(context.Background(), tr, 10)
	mustBlock(t, ch, "at maxEvents")
	a1()
	mustReturn(t, ch, nil, "after an ack")
	if ev, b, _ := tr.Stats(); ev != 2 || b != 20 {
		t.Fatalf("Stats = %d events, %d bytes; want 2, 20", ev, b)
	}
}

func TestAcquireBlocksAtMaxBytes(t *testing.T) {
	t.Parallel()
	tr := NewTracker(100, 100)
	x := tr.Begin(1)
	a1 := acquireTrack(t, tr, x, 60)
	ch := acquireAsync(context.Background(), tr, 50)
	mustBlock(t, ch, "at maxBytes")
	a1()
	mustReturn(t, ch, nil, "after an ack")
}

func TestAcquireHonoursContext(t *testing.T) {
	t.Parallel()
	tr := NewTracker(1, 100)
	x := tr.Begin(1)
	_ = acquireTrack(t, tr, x, 10)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := tr.Acquire(ctx, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with deadline = %v, want DeadlineExceeded", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	ch := acquireAsync(ctx2, tr, 10)
	mustBlock(t, ch, "before cancel")
	cancel2()
	mustReturn(t, ch, context.Canceled, "after cancel")
	// A failed Acquire reserves nothing.
	if ev, b, _ := tr.Stats(); ev != 1 || b != 10 {
		t.Fatalf("Stats = %d events, %d bytes; want 1, 10", ev, b)
	}
}

func TestAcquireOversizedWhenEmpty(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 100)
	x := tr.Begin(1)
	big := acquireTrack(t, tr, x, 1000) // larger than maxBytes, nothing in flight
	ch := acquireAsync(context.Background(), tr, 1)
	mustBlock(t, ch, "behind an oversized event")
	big()
	mustReturn(t, ch, nil, "after the oversized event was acked")
	// An oversized event waits while something else is in flight.
	ch2 := acquireAsync(context.Background(), tr, 1000)
	mustBlock(t, ch2, "oversized with one event in flight")
}

func TestAcquireCountsReservations(t *testing.T) {
	t.Parallel()
	tr := NewTracker(1, 100)
	if err := tr.Acquire(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	ch := acquireAsync(context.Background(), tr, 10)
	mustBlock(t, ch, "behind an untracked reservation")
	tr.Release(10)
	mustReturn(t, ch, nil, "after Release")
	if ev, b, _ := tr.Stats(); ev != 1 || b != 10 {
		t.Fatalf("Stats = %d events, %d bytes; want 1, 10", ev, b)
	}
}

func TestDrain(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	x := tr.Begin(1)
	a := acquireTrack(t, tr, x, 10)
	x.Commit(2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := tr.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with an unacked event = %v, want DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() { done <- tr.Drain(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	a()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain still blocked after the last ack")
	}
	if tr.Watermark() != 2 {
		t.Fatalf("watermark %s, want 0/2", tr.Watermark())
	}
}

func TestEmptyTxnDoneAtCommit(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	tr.SetWatermark(5)
	x := tr.Begin(10)
	if tr.Watermark() != 5 {
		t.Fatalf("watermark moved on Begin: %s", tr.Watermark())
	}
	x.Commit(11)
	if tr.Watermark() != 11 {
		t.Fatalf("watermark %s, want 0/B after committing a transaction without events", tr.Watermark())
	}
}

func TestAckBeforeCommitDoesNotAdvance(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	x := tr.Begin(10)
	acquireTrack(t, tr, x, 1)()
	if tr.Watermark() != 0 {
		t.Fatalf("watermark %s before Commit, want 0/0", tr.Watermark())
	}
	x.Commit(20)
	if tr.Watermark() != 20 {
		t.Fatalf("watermark %s, want 0/14", tr.Watermark())
	}
}

func TestFoldIntoPredecessor(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	x1, x2, x3 := tr.Begin(10), tr.Begin(20), tr.Begin(30)
	a1 := acquireTrack(t, tr, x1, 1)
	x1.Commit(11)
	a2 := acquireTrack(t, tr, x2, 1)
	x2.Commit(21)
	x3.Commit(31) // done at once, folds into x2
	a2()          // x2 done, folds into x1 with end 31
	if tr.Watermark() != 0 {
		t.Fatalf("watermark %s while the first transaction is unacked", tr.Watermark())
	}
	if _, _, open := tr.Stats(); open != 1 {
		t.Fatalf("open txns %d, want 1", open)
	}
	a1()
	if tr.Watermark() != 31 {
		t.Fatalf("watermark %s, want 0/1F", tr.Watermark())
	}
}

func TestAdvanceIdle(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	tr.SetWatermark(100)
	drainChanged(tr)
	if tr.AdvanceIdle(50) || tr.AdvanceIdle(100) {
		t.Fatal("AdvanceIdle moved the watermark backwards or to itself")
	}
	x := tr.Begin(150)
	if tr.AdvanceIdle(200) {
		t.Fatal("AdvanceIdle moved with a transaction open")
	}
	a := acquireTrack(t, tr, x, 1)
	x.Commit(160)
	if tr.AdvanceIdle(200) {
		t.Fatal("AdvanceIdle moved with an event in flight")
	}
	a()
	if tr.Watermark() != 160 {
		t.Fatalf("watermark %s, want 0/A0", tr.Watermark())
	}
	if err := tr.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if tr.AdvanceIdle(200) {
		t.Fatal("AdvanceIdle moved with a reservation outstanding")
	}
	tr.Release(1)
	drainChanged(tr)
	if !tr.AdvanceIdle(200) || tr.Watermark() != 200 {
		t.Fatalf("AdvanceIdle while idle did not move the watermark (now %s)", tr.Watermark())
	}
	select {
	case <-tr.Changed():
	default:
		t.Fatal("AdvanceIdle did not signal Changed")
	}
}

func drainChanged(tr *Tracker) {
	for {
		select {
		case <-tr.Changed():
		default:
			return
		}
	}
}

func TestChangedCoalesces(t *testing.T) {
	t.Parallel()
	tr := NewTracker(10, 1000)
	for i := range 5 {
		tr.Begin(event.LSN(10 * (i + 1))).Commit(event.LSN(10*(i+1) + 1))
	}
	select {
	case <-tr.Changed():
	default:
		t.Fatal("no Changed signal after the watermark moved")
	}
	select {
	case <-tr.Changed():
		t.Fatal("Changed signals were not coalesced")
	default:
	}
}

func TestMisusePanics(t *testing.T) {
	t.Parallel()
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Fatalf("%s did not panic", name)
			}
		}()
		f()
	}
	tr := NewTracker(10, 1000)
	x := tr.Begin(1)
	x.Commit(2)
	mustPanic("Track after Commit", func() { x.Track(1) })
	mustPanic("Commit twice", func() { x.Commit(3) })
	mustPanic("zero cap", func() { NewTracker(0, 1) })
}

// TestOnAcked: the hook sees each transaction with events once, with its
// commit time, when Kafka acknowledged its last event, whether that ack
// comes after its commit or before it (then at the commit), and even when
// the transaction is not the head of the list; a transaction without
// events or without a commit time is not measured.
func TestOnAcked(t *testing.T) {
	tr := NewTracker(100, 1<<20)
	var got []time.Time
	tr.OnAcked(func(c time.Time) { got = append(got, c) })
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }

	first := tr.Begin(10)
	first.SetCommitTime(at(1))
	ackFirst := acquireTrack(t, tr, first, 1)
	first.Commit(11)

	second := tr.Begin(20) // acked before its commit, and not the head
	second.SetCommitTime(at(2))
	acquireTrack(t, tr, second, 1)()
	if len(got) != 0 {
		t.Fatalf("measured %v before any transaction was committed and acknowledged", got)
	}
	second.Commit(21)

	empty := tr.Begin(30) // nothing to publish
	empty.SetCommitTime(at(3))
	empty.Commit(31)

	untimed := tr.Begin(40) // e.g. a non-transactional message
	acquireTrack(t, tr, untimed, 1)()
	untimed.Commit(41)

	ackFirst()
	ackFirst()
	want := []time.Time{at(2), at(1)}
	if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
		t.Fatalf("measured commit times %v, want %v", got, want)
	}
}
