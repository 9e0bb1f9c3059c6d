package checkpoint

import (
	"context"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// model is the reference for the tracker: txns in receive order with their
// end LSN, whether they are committed and how many events are unacked.
type model struct {
	start     event.LSN
	ends      []event.LSN
	committed []bool
	pending   []int
}

// prefixEnd returns the end of the longest prefix of committed, fully acked
// transactions (or start), and how many transactions are not done.
func (m *model) prefixEnd() (event.LSN, int) {
	w := m.start
	i := 0
	for ; i < len(m.ends) && m.committed[i] && m.pending[i] == 0; i++ {
		w = m.ends[i]
	}
	notDone := 0
	for ; i < len(m.ends); i++ {
		if !m.committed[i] || m.pending[i] != 0 {
			notDone++
		}
	}
	return w, notDone
}

type pendingAck struct {
	txn int
	ack func()
}

// TestTrackerRandomSequential interleaves Begin, Track, Commit and acks in a
// random order (acks may come before their transaction commits) and checks
// after every step that the watermark is exactly the end of the longest
// fully-done prefix.
func TestTrackerRandomSequential(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		start := event.LSN(1000)
		tr := NewTracker(1<<30, 1<<40)
		tr.SetWatermark(start)
		m := &model{start: start}
		var open *Txn
		var acks []pendingAck
		next := start
		nTxns := 1 + rng.Intn(60)
		for begun := 0; begun < nTxns || open != nil || len(acks) > 0; {
			switch op := rng.Intn(10); {
			case op < 3 && len(acks) > 0:
				i := rng.Intn(len(acks))
				a := acks[i]
				acks[i] = acks[len(acks)-1]
				acks = acks[:len(acks)-1]
				a.ack()
				a.ack() // a second call must change nothing
				m.pending[a.txn]--
			case open == nil && begun < nTxns:
				next += event.LSN(1 + rng.Intn(500))
				open = tr.Begin(next)
				m.ends = append(m.ends, 0)
				m.committed = append(m.committed, false)
				m.pending = append(m.pending, 0)
				begun++
			case open != nil && op < 8 && rng.Intn(4) != 0:
				size := 1 + rng.Intn(100)
				if err := tr.Acquire(context.Background(), size); err != nil {
					t.Fatalf("seed %d: Acquire: %v", seed, err)
				}
				acks = append(acks, pendingAck{txn: len(m.ends) - 1, ack: open.Track(size)})
				m.pending[len(m.ends)-1]++
			case open != nil:
				next += event.LSN(1 + rng.Intn(500))
				open.Commit(next)
				m.ends[len(m.ends)-1] = next
				m.committed[len(m.ends)-1] = true
				open = nil
			default:
				continue
			}
			want, notDone := m.prefixEnd()
			if got := tr.Watermark(); got != want {
				t.Fatalf("seed %d: watermark %s, want %s (end of the longest done prefix)", seed, got, want)
			}
			if _, _, openTxns := tr.Stats(); openTxns != notDone {
				t.Fatalf("seed %d: open txns %d, want %d", seed, openTxns, notDone)
			}
		}
		if got := tr.Watermark(); got != next {
			t.Fatalf("seed %d: final watermark %s, want last end %s", seed, got, next)
		}
		if ev, b, o := tr.Stats(); ev != 0 || b != 0 || o != 0 {
			t.Fatalf("seed %d: stats after all acked = %d events, %d bytes, %d open; want zeros", seed, ev, b, o)
		}
	}
}

// TestTrackerRandomConcurrent acks events of many transactions in shuffled
// order from several goroutines while a watcher checks that the watermark
// never passes the end of the longest fully-acked prefix.
func TestTrackerRandomConcurrent(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 40; seed++ {
		runConcurrentSeed(t, seed)
	}
}

func runConcurrentSeed(t *testing.T, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	tr := NewTracker(1<<30, 1<<40)
	n := 50 + rng.Intn(200)
	ends := make([]event.LSN, n)
	remaining := make([]atomic.Int64, n) // model: decremented before the ack is called
	var acks []pendingAck
	lsn := event.LSN(0)
	for i := range n {
		lsn += event.LSN(1 + rng.Intn(100))
		x := tr.Begin(lsn)
		k := rng.Intn(6)
		remaining[i].Store(int64(k))
		for range k {
			if err := tr.Acquire(context.Background(), 10); err != nil {
				t.Fatal(err)
			}
			acks = append(acks, pendingAck{txn: i, ack: x.Track(10)})
		}
		lsn += event.LSN(1 + rng.Intn(100))
		ends[i] = lsn
		x.Commit(lsn)
	}
	rng.Shuffle(len(acks), func(i, j int) { acks[i], acks[j] = acks[j], acks[i] })

	// bound returns the model's done-prefix end. The model runs ahead of the
	// tracker (it counts an ack before the tracker sees it), so a correct
	// watermark read before bound is never above it.
	bound := func() event.LSN {
		w := event.LSN(0)
		for i := range n {
			if remaining[i].Load() != 0 {
				break
			}
			w = ends[i]
		}
		return w
	}
	stop := make(chan struct{})
	watchErr := make(chan string, 1)
	go func() {
		defer close(watchErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			w := tr.Watermark()
			if b := bound(); w > b {
				watchErr <- "watermark " + w.String() + " passed done prefix " + b.String()
				return
			}
		}
	}()
	const workers = 4
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(acks); i += workers {
				remaining[acks[i].txn].Add(-1)
				acks[i].ack()
			}
		}()
	}
	wg.Wait()
	close(stop)
	if msg, ok := <-watchErr; ok {
		t.Fatalf("seed %d: %s", seed, msg)
	}
	if got := tr.Watermark(); got != ends[n-1] {
		t.Fatalf("seed %d: final watermark %s, want %s", seed, got, ends[n-1])
	}
}

// TestTrackerMillionEvents checks that a million acks, in the worst order for
// folding (newest first) and in random order, take linear time.
func TestTrackerMillionEvents(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"reverse", "random"} {
		startT := time.Now()
		tr := NewTracker(2_000_000, 1<<40)
		const events, perTxn = 1_000_000, 10
		acks := make([]func(), 0, events)
		for i := range events / perTxn {
			x := tr.Begin(event.LSN(i*100 + 1))
			for range perTxn {
				if err := tr.Acquire(context.Background(), 1); err != nil {
					t.Fatal(err)
				}
				acks = append(acks, x.Track(1))
			}
			x.Commit(event.LSN(i*100 + 50))
		}
		if order == "reverse" {
			for i := len(acks) - 1; i >= 0; i-- {
				acks[i]()
				if i > 0 && tr.Watermark() != 0 {
					t.Fatalf("watermark moved to %s before the first transaction was acked", tr.Watermark())
				}
			}
		} else {
			rand.New(rand.NewSource(7)).Shuffle(len(acks), func(i, j int) { acks[i], acks[j] = acks[j], acks[i] })
			for _, a := range acks {
				a()
			}
		}
		if want := event.LSN((events/perTxn-1)*100 + 50); tr.Watermark() != want {
			t.Fatalf("%s: watermark %s, want %s", order, tr.Watermark(), want)
		}
		if d := time.Since(startT); d > 30*time.Second {
			t.Fatalf("%s: 1e6 events took %s; per-ack work is not O(1)", order, d)
		}
	}
}

func BenchmarkTrackAck(b *testing.B) {
	tr := NewTracker(1<<20, 1<<40)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x := tr.Begin(event.LSN(2*i + 1))
		if err := tr.Acquire(ctx, 100); err != nil {
			b.Fatal(err)
		}
		ack := x.Track(100)
		x.Commit(event.LSN(2*i + 2))
		ack()
	}
}

func BenchmarkTrackAckParallel(b *testing.B) {
	tr := NewTracker(1<<20, 1<<40)
	x := tr.Begin(1)
	acks := make(chan func(), 1024)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range acks {
				a()
			}
		}()
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := tr.Acquire(context.Background(), 100); err != nil {
			b.Fatal(err)
		}
		acks <- x.Track(100)
	}
	close(acks)
	wg.Wait()
}
