package pipeline

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
)

// tableEventsDesc is walrelay_table_events_total{table, op}.
var tableEventsDesc = prometheus.NewDesc("walrelay_table_events_total",
	"Change events of a table Kafka acknowledged, by operation (c, u, d, t, r: snapshot reads); "+
		"an event sent again after a restart counts again.",
	[]string{"table", "op"}, nil)

// tableOps are the operations counted per table, in opCounts order.
var tableOps = [...]event.Op{event.OpCreate, event.OpUpdate, event.OpDelete, event.OpTruncate, event.OpRead}

// opCounts counts one table's events per operation (tableOps order).
type opCounts [len(tableOps)]atomic.Uint64

// tableCounts counts change events per table and operation over a Run
// (a restart does not reset them), for the metrics. Acknowledgements add
// through a tableCounter's eventCounts; Collect reads at scrape time.
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

// eventCount is what Kafka's acknowledgement of one event adds to
// (checkpoint.AckCounter): the session's published events (nil for a
// snapshot read, which walrelay_events_total does not count) and its
// table's count of its operation (nil with metrics off, or for a change of
// no table). Counting at the acknowledgement, not at the hand-off to the
// sink, keeps the counts to what is on the topics: a record Kafka never
// took is not counted, and one sent again after a restart counts again
// only once Kafka took it again.
type eventCount struct{ events, op *atomic.Uint64 }

// Acked implements checkpoint.AckCounter.
func (c *eventCount) Acked() {
	if c.events != nil {
		c.events.Add(1)
	}
	if c.op != nil {
		c.op.Add(1)
	}
}

// relCounts are one relation's eventCounts, in tableOps order.
type relCounts [len(tableOps)]eventCount

// tableCounter is one publishing goroutine's way into tableCounts: it
// gives each record the eventCount its acknowledgement adds to, and caches
// them per relation it saw, so that this costs a pointer comparison (or a
// map lookup) per change and nothing is allocated per record. With
// metrics off (tc nil) only events are counted.
type tableCounter struct {
	tc     *tableCounts
	events *atomic.Uint64 // the session's published events; nil: not counted
	noRel  eventCount     // changes of no table (logical decoding messages)
	last   *event.Relation
	lastC  *relCounts
	byRel  map[*event.Relation]*relCounts
}

// newTableCounter counts into tc (nil: no per-table counts) and events
// (nil: none, as for snapshot reads).
func newTableCounter(tc *tableCounts, events *atomic.Uint64) *tableCounter {
	return &tableCounter{tc: tc, events: events, noRel: eventCount{events: events}, byRel: map[*event.Relation]*relCounts{}}
}

// acks returns, in buf, what the acknowledgement of each of recs, the
// records of ch, counts: nil for a tombstone (not an event, changeEvents),
// else the count of ch's table and operation. An update that reached the
// sink as two events is a key change, published as a delete and a create
// (keychange.go), and counted as those.
func (c *tableCounter) acks(ch *event.Change, recs []event.Record, buf []checkpoint.AckCounter) []checkpoint.AckCounter {
	buf = buf[:0]
	counts := c.relation(ch)
	keyChange := ch.Op == event.OpUpdate && changeEvents(ch, recs) == 2
	nth := 0
	for i := range recs {
		if (ch.Op == event.OpDelete || ch.Op == event.OpUpdate) && recs[i].Value == nil {
			buf = append(buf, nil)
			continue
		}
		op := ch.Op
		if keyChange {
			op = [2]event.Op{event.OpDelete, event.OpCreate}[nth]
			nth++
		}
		buf = append(buf, counts.of(op, &c.noRel))
	}
	return buf
}

// relation returns the counts of ch's table; nil for a change of no table,
// or with metrics off.
func (c *tableCounter) relation(ch *event.Change) *relCounts {
	if c.tc == nil || ch.Relation == nil {
		return nil
	}
	if ch.Relation != c.last {
		counts := c.byRel[ch.Relation]
		if counts == nil {
			ops := c.tc.of(ch.Relation.QualifiedName())
			counts = new(relCounts)
			for i := range counts {
				counts[i] = eventCount{events: c.events, op: &ops[i]}
			}
			c.byRel[ch.Relation] = counts
		}
		c.last, c.lastC = ch.Relation, counts
	}
	return c.lastC
}

// of returns the eventCount of op; other when rc is nil or op is not
// counted per table.
func (rc *relCounts) of(op event.Op, other *eventCount) checkpoint.AckCounter {
	if rc != nil {
		for i, o := range tableOps {
			if o == op {
				return &rc[i]
			}
		}
	}
	return other
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
