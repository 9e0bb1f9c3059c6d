package e2e

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestLargeRowsLeaveMemory: 60 transactions each insert one row with a
// 2 MiB text value. Every row reaches Kafka, and once nothing is in flight
// the idle relay's heap, read just after the runtime's next collection,
// is under 48 MiB: the rows it published are not kept (invariant 5). The
// decoder's value slabs and the encoder's record slabs used to keep all 60
// (about 180 MB) until smaller rows replaced them.
//
// It waits for a collection at idle, which the runtime forces within two
// minutes.
func TestLargeRowsLeaveMemory(t *testing.T) {
	t.Parallel()
	const (
		rows    = 60
		size    = 2 << 20
		maxHeap = 48 << 20
	)
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE doc (id int PRIMARY KEY, body text NOT NULL);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.doc", markerTable)
	cfg.set("kafka.topic_config", map[string]string{"max.message.bytes": "10000000"})
	addr := testenv.FreeAddr(t)
	cfg.set("metrics.listen", addr)
	metrics := "http://" + addr + "/metrics"
	r := startRelay(t, cfg)

	for i := 1; i <= rows; i++ { // a transaction each; repeat compresses, so the WAL stays small
		mustExec(t, conn, `INSERT INTO doc SELECT $1::int, repeat(md5($1::text), $2::int)`, i, size/32)
	}
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	col := newCollector(t, brokers, cfg.topic("public.doc"))
	seen := map[string]bool{}
	col.handle = func(kr *kgo.Record) { // counts, without keeping 120 MB of records
		if len(kr.Value) < size {
			t.Errorf("record %s of %d bytes, want at least %d", kr.Key, len(kr.Value), size)
		}
		seen[string(kr.Key)] = true
	}
	catchUp(t, cfg, conn, mcol, col, 3*time.Minute)
	if len(seen) != rows {
		t.Fatalf("%d distinct keys on %s, want %d", len(seen), cfg.topic("public.doc"), rows)
	}

	m := waitIdleGC(t, metrics, 150*time.Second)
	heap := m["go_memstats_heap_alloc_bytes"]
	t.Logf("idle after %d rows of %d MiB: heap %.1f MiB after GC %v, peak RSS %d MiB",
		rows, size>>20, heap/(1<<20), m["go_gc_duration_seconds_count"], r.peakRSS()>>20)
	if heap <= 0 || heap >= maxHeap {
		t.Errorf("idle walrelay's heap after a collection is %.1f MiB with nothing in flight, want under %d MiB",
			heap/(1<<20), maxHeap>>20)
	}
	if code, _ := r.term(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// waitIdleGC waits until nothing is in flight and the relay has collected
// garbage since, and returns the metrics read just after that collection;
// it fails the test after timeout.
func waitIdleGC(t *testing.T, url string, timeout time.Duration) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	gcs := -1.0 // collections seen when the relay was first idle
	for {
		m := scrape(t, url)
		idle := m["walrelay_inflight_events"] == 0 && m["walrelay_inflight_bytes"] == 0
		n := m["go_gc_duration_seconds_count"]
		switch {
		case !idle:
			gcs = -1
		case gcs < 0:
			gcs = n
		case n > gcs:
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no collection within %s of the relay going idle (idle %v, %v collections, inflight %v events %v bytes)",
				timeout, idle, n, m["walrelay_inflight_events"], m["walrelay_inflight_bytes"])
		}
		time.Sleep(time.Second)
	}
}
