package sink

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// TestIdleWritersRetainLittle: a partition writer that has nothing left to
// send holds about a kilobyte, not storage for two batches, also after a
// burst filled its queue: walrelay keeps one writer per captured table for
// as long as it runs, so what an idle one retains is paid per table.
func TestIdleWritersRetainLittle(t *testing.T) {
	const (
		partitions = 64
		burst      = 300  // records per partition, queued while the broker stalls
		bound      = 2048 // bytes the sink may retain per idle writer
		prefix     = "github.com/walrelay/walrelay/sink."
	)
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1 // every allocation, for sinkInUse

	c := newFake(t)
	release := stallProduce(c)
	defer release()
	createTopic(t, c.ListenAddrs(), "idle", partitions, nil)
	s := startSink(t, fastConfig(c.ListenAddrs())) // default batch_max_records
	keys := keysPerPartition(partitions)

	before := sinkInUse(t, prefix)
	a := newAcks(partitions * burst)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range partitions * burst {
		if err := s.Send(ctx, testRecord("idle", keys[i%partitions], i, a)); err != nil {
			t.Fatal(err)
		}
	}
	release()
	a.wait(t, 20*time.Second)

	// A writer acks before it goes back to wait for records: give the last
	// ones a moment to get there.
	var per int64
	for range 50 {
		per = (sinkInUse(t, prefix) - before) / partitions
		if per <= bound {
			t.Logf("an idle writer retains %d bytes allocated by the sink", per)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("an idle writer retains %d bytes allocated by the sink, want at most %d", per, bound)
}

// keysPerPartition returns, for each of n partitions, a testRecord key
// number that the sink routes to it.
func keysPerPartition(n int) []int {
	keys := make([]int, n)
	found := 0
	seen := make([]bool, n)
	for k := 0; found < n; k++ {
		p := javaPartition([]byte("key-"+strconv.Itoa(k)), n)
		if !seen[p] {
			seen[p], keys[p] = true, k
			found++
		}
	}
	return keys
}

// sinkInUse returns the bytes in use, as of a fresh collection, that code
// of package prefix (not its tests) allocated: the innermost frame of the
// allocation outside the runtime is in the package. It needs
// runtime.MemProfileRate = 1 from before those allocations.
func sinkInUse(t *testing.T, prefix string) int64 {
	t.Helper()
	runtime.GC() // twice: sync.Pool keeps a victim cache for one cycle
	runtime.GC()
	runtime.GC() // the profile shows the cycle before the last
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	var total int64
	for i := range recs {
		if inPackage(recs[i].Stack(), prefix) {
			total += recs[i].InUseBytes()
		}
	}
	return total
}

// inPackage reports whether the innermost frame of stack outside the
// runtime (and the packages it calls for make, append and new) is a
// non-test function of package prefix.
func inPackage(stack []uintptr, prefix string) bool {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "internal/") {
			return strings.HasPrefix(f.Function, prefix) && !strings.Contains(f.Function[len(prefix):], "/") &&
				!strings.HasSuffix(f.File, "_test.go")
		}
		if !more {
			return false
		}
	}
}

// TestRecordQueueOrder: whatever the ring's growth, wrap-around and release
// while empty, records leave a writer's queue in the order Send put them in,
// and Send finds no room exactly when it holds max records.
func TestRecordQueueOrder(t *testing.T) {
	const max = 100
	q := newRecordQueue(max)
	w := &writer{s: &Sink{cfg: Config{BatchMaxRecords: 30, BatchMaxBytes: 1 << 20}}, queue: q}
	rng := rand.New(rand.NewPCG(1, 2))
	var in, out int
	done := make(chan struct{})
	check := func(rec *event.Record) {
		t.Helper()
		if got, _ := strconv.Atoi(string(rec.Value)); got != out {
			t.Fatalf("record %d left the queue in place of %d", got, out)
		}
		out++
	}
	for range 2000 {
		for range rng.IntN(max) {
			rec := testRecord("q", 0, in, newAcks(1))
			if ok, held := q.tryPush(rec), in-out; ok != (held < max) {
				t.Fatalf("tryPush with %d held = %v", held, ok)
			} else if ok {
				w.queuedBytes.Add(int64(rec.Size()))
				in++
			}
		}
		switch rng.IntN(3) {
		case 0:
			for range rng.IntN(max) {
				if rec, _ := q.pop(); rec != nil {
					check(rec)
				}
			}
		case 1:
			w.batch, w.bytes = w.batch[:0], 0
			w.drain()
			for _, rec := range w.batch {
				check(rec)
			}
		case 2:
			for rec, _ := q.pop(); rec != nil; rec, _ = q.pop() {
				check(rec)
			}
			go func() { time.Sleep(time.Millisecond); q.tryPush(testRecord("q", 0, in, newAcks(1))); close(done) }()
			if !q.wait(nil) {
				t.Fatal("wait ended without a record")
			}
			<-done
			done = make(chan struct{})
			in++
		}
		if q.len() != in-out {
			t.Fatalf("len() = %d, want %d", q.len(), in-out)
		}
	}
	q.close()
	for rec, closed := q.pop(); !closed; rec, closed = q.pop() {
		check(rec)
	}
	if out != in {
		t.Fatalf("%d records out of %d", out, in)
	}
}

// TestDrainKeepsCarryAfterClose: when the last record of a closed queue
// does not fit the batch's bytes, it is carried over and the writer stays
// open for one more batch; reporting the queue closed then would leave that
// record unsent and unacked at shutdown.
func TestDrainKeepsCarryAfterClose(t *testing.T) {
	q := newRecordQueue(10)
	w := &writer{s: &Sink{cfg: Config{BatchMaxRecords: 10, BatchMaxBytes: 150}}, queue: q}
	for i := range 2 {
		rec := testRecord("q", 0, i, newAcks(1))
		q.tryPush(rec)
		w.queuedBytes.Add(int64(rec.Size()))
	}
	q.close()
	open, full := w.drain()
	if len(w.batch) != 1 || w.carry == nil {
		t.Fatalf("batch %d records, carry %v: want one record and the other carried", len(w.batch), w.carry != nil)
	}
	if !open || !full {
		t.Fatalf("drain = open %v, full %v with a carried record: want true, true", open, full)
	}
}
