package pipeline

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrelay/walrelay/event"
)

// tableEventsDesc is walrelay_table_events_total{table, op}.
var tableEventsDesc = prometheus.NewDesc("walrelay_table_events_total",
	"Change events of a table handed to the Kafka sink, by operation (c, u, d, t, r: snapshot reads).",
	[]string{"table", "op"}, nil)

// tableOps are the operations counted per table, in opCounts order.
var tableOps = [...]event.Op{event.OpCreate, event.OpUpdate, event.OpDelete, event.OpTruncate, event.OpRead}

// opCounts counts one table's events per operation (tableOps order).
type opCounts [len(tableOps)]atomic.Uint64

// tableCounts counts change events per table and operation over a Run
// (a restart does not reset them), for the metrics. The publishing
// goroutines add through a tableCounter; Collect reads at scrape time.
type tableCounts struct {
	mu sync.Mutex
	m  map[string]*opCounts // schema.table
}

func newTableCounts() *tableCounts { return &tableCounts{m: map[string]*opCounts{}} }

// of returns the counts of table, creating them on first use.
func (tc *tableCounts) of(table string) *opCounts {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	c := tc.m[table]
	if c == nil {
		c = new(opCounts)
		tc.m[table] = c
	}
	return c
}

// Describe implements prometheus.Collector.
func (tc *tableCounts) Describe(ch chan<- *prometheus.Desc) { ch <- tableEventsDesc }

// Collect implements prometheus.Collector: one counter per table and
// operation seen.
func (tc *tableCounts) Collect(ch chan<- prometheus.Metric) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for table, c := range tc.m {
		for i, op := range tableOps {
			if v := c[i].Load(); v > 0 {
				ch <- prometheus.MustNewConstMetric(tableEventsDesc, prometheus.CounterValue, float64(v), table, op.String())
			}
		}
	}
}

// tableCounter is one publishing goroutine's way into tableCounts: it
// caches the counts of each relation it saw, so that counting an event
// costs a pointer comparison (or a map lookup) and an atomic add. The
// zero value (metrics off) counts nothing.
type tableCounter struct {
	tc    *tableCounts
	last  *event.Relation
	lastC *opCounts
	byRel map[*event.Relation]*opCounts
}

func newTableCounter(tc *tableCounts) tableCounter {
	return tableCounter{tc: tc, byRel: map[*event.Relation]*opCounts{}}
}

// add counts ch, a change of a table that reached the sink as events change
// events (tombstones not counted, changeEvents). An update that reached it
// as two events is a key change, published as a delete and a create
// (keychange.go), and counted as those.
func (c *tableCounter) add(ch *event.Change, events int) {
	if c.tc == nil || ch.Relation == nil {
		return
	}
	if ch.Relation != c.last {
		counts := c.byRel[ch.Relation]
		if counts == nil {
			counts = c.tc.of(ch.Relation.QualifiedName())
			c.byRel[ch.Relation] = counts
		}
		c.last, c.lastC = ch.Relation, counts
	}
	if ch.Op == event.OpUpdate && events == 2 {
		c.count(event.OpDelete)
		c.count(event.OpCreate)
		return
	}
	c.count(ch.Op)
}

// count adds one event of op to the current relation's counts.
func (c *tableCounter) count(op event.Op) {
	for i, o := range tableOps {
		if o == op {
			c.lastC[i].Add(1)
			return
		}
	}
}

// changeEvents is the number of change events among recs, the records of
// ch: every record but a tombstone. It is what walrelay_events_total, the
// per-table counts and a transaction's END record count, as Debezium counts
// (a delete's tombstone is not an event). A tombstone is a null-valued
// record of a delete or of a key-changing update (its delete half); a
// null-valued record of any other change is an event: an outbox row with a
// NULL payload, published as a record with a null value.
func changeEvents(ch *event.Change, recs []event.Record) int {
	if ch.Op != event.OpDelete && ch.Op != event.OpUpdate {
		return len(recs)
	}
	n := 0
	for i := range recs {
		if recs[i].Value != nil {
			n++
		}
	}
	return n
}
