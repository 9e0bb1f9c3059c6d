package pipeline

import (
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

// fakeSession is a session as far as the counters read it: events Kafka
// acknowledged, no sink.
func fakeSession(events uint64) *session {
	s := &session{cfg: &config.Config{}}
	s.reader.pub = &publisher{}
	s.reader.pub.events.Store(events)
	return s
}

// TestMetricsCountersAddUpOverSessions: a restarted session does not reset
// the counters (Prometheus would read a reset), a session that never
// streamed adds nothing, and each restart Run makes is counted.
func TestMetricsCountersAddUpOverSessions(t *testing.T) {
	m := newMetrics()
	first := fakeSession(5)
	m.streaming(first)
	first.reader.pub.events.Store(7)
	if got := m.total().events; got != 7 {
		t.Fatalf("live session: %d events, want 7", got)
	}
	m.ended(first)
	m.restarting()
	m.ended(fakeSession(100)) // failed before it streamed
	m.restarting()
	second := fakeSession(3)
	m.streaming(second)
	if got := m.total().events; got != 10 {
		t.Errorf("after a restart: %d events, want 7 + 3", got)
	}
	m.ended(second)
	if got, restarts := m.total().events, m.restarts.Load(); got != 10 || restarts != 2 {
		t.Errorf("after the stop: %d events and %d restarts, want 10 and 2", got, restarts)
	}
	if m.live.Load() != nil {
		t.Error("a session is still live after it ended")
	}
	var nilMetrics *metrics // metrics.listen unset
	nilMetrics.streaming(second)
	nilMetrics.ended(second)
	nilMetrics.restarting()
}

// TestMetricsSnapshotProgress: the snapshot gauges read the latest
// snapshot's progress at scrape time, and whether one runs.
func TestMetricsSnapshotProgress(t *testing.T) {
	m := newMetrics()
	gauge := func(name string) float64 { return gaugeValue(t, m, name) }
	if gauge("walrelay_snapshot_rows_total") != 0 || gauge("walrelay_snapshot_running") != 0 {
		t.Fatal("snapshot gauges are not 0 before any snapshot")
	}
	plan := &snapshot.TablePlan{Rows: 10}
	p := snapshot.NewProgress([]*snapshot.TablePlan{plan}, nil)
	m.snapshotting(p, true)
	p.Add(plan, 4)
	if done, total, running := gauge("walrelay_snapshot_rows_done"), gauge("walrelay_snapshot_rows_total"),
		gauge("walrelay_snapshot_running"); done != 4 || total != 10 || running != 1 {
		t.Errorf("while running: done %v total %v running %v, want 4 10 1", done, total, running)
	}
	p.Add(plan, 6)
	m.snapshotting(p, false)
	if done, running := gauge("walrelay_snapshot_rows_done"), gauge("walrelay_snapshot_running"); done != 10 || running != 0 {
		t.Errorf("after it: done %v running %v, want 10 0", done, running)
	}
	var nilMetrics *metrics
	nilMetrics.snapshotting(p, true)
}

// TestMetricsTableEvents: events are counted per table and operation when
// Kafka acknowledges them, a new relation version of the same table adds to
// the same counters, a key-changing update (published as a delete and a
// create) counts as those, a tombstone counts nowhere, and a counter
// without metrics counts only the events.
func TestMetricsTableEvents(t *testing.T) {
	m := newMetrics()
	var events atomic.Uint64
	c := newTableCounter(m.tables, &events)
	value := event.Record{Value: []byte("{}")}
	add := func(ch *event.Change, recs ...event.Record) {
		acks := c.acks(ch, recs, nil)
		if len(acks) != len(recs) {
			t.Fatalf("%d acks for %d records", len(acks), len(recs))
		}
		for _, a := range acks {
			if a != nil {
				a.Acked()
			}
		}
	}
	v1 := &event.Relation{Schema: "public", Table: "a", Version: 1}
	v2 := &event.Relation{Schema: "public", Table: "a", Version: 2}
	b := &event.Relation{Schema: "sales", Table: "b"}
	for _, ch := range []*event.Change{{Op: event.OpRead, Relation: v1}, {Op: event.OpCreate, Relation: v1},
		{Op: event.OpCreate, Relation: b}, {Op: event.OpUpdate, Relation: v2}, {Op: event.OpCreate, Relation: v2},
		{Op: event.OpMessage}} {
		add(ch, value)
	}
	add(&event.Change{Op: event.OpUpdate, Relation: b}, value, event.Record{}, value) // a key change: delete, tombstone, create
	add(&event.Change{Op: event.OpDelete, Relation: b}, value, event.Record{})        // a delete and its tombstone
	got := tableEvents(t, m)                                                          // metrics_ack_test.go
	want := map[string]float64{"public.a r": 1, "public.a c": 2, "public.a u": 1, "sales.b c": 2, "sales.b d": 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("walrelay_table_events_total = %v, want %v", got, want)
	}
	if n := events.Load(); n != 9 {
		t.Errorf("events %d, want 9 (6 changes, a key change as 2, a delete)", n)
	}
	off := newTableCounter(nil, &events)
	var none []checkpoint.AckCounter
	for _, a := range off.acks(&event.Change{Op: event.OpCreate, Relation: v1}, []event.Record{value}, none) {
		a.Acked()
	}
	if n := events.Load(); n != 10 {
		t.Errorf("events %d without metrics, want 10", n)
	}
}

// TestChangeEvents: tombstones (a delete's, a key change's) are not change
// events; a null-valued record of an insert or a message (an outbox row
// with a NULL payload, see also TestTxMetaCountsNullValues) is one.
func TestChangeEvents(t *testing.T) {
	recs := []event.Record{{Value: []byte("{}")}, {Value: nil}, {Value: []byte("{}")}}
	if n := changeEvents(&event.Change{Op: event.OpUpdate}, recs); n != 2 {
		t.Errorf("changeEvents = %d, want 2 (a delete, its tombstone, a create)", n)
	}
	if n := changeEvents(&event.Change{Op: event.OpDelete}, recs[:2]); n != 1 {
		t.Errorf("changeEvents of a delete = %d, want 1 (the delete, not its tombstone)", n)
	}
	for _, op := range []event.Op{event.OpCreate, event.OpMessage} {
		if n := changeEvents(&event.Change{Op: op}, []event.Record{{Value: nil}}); n != 1 {
			t.Errorf("changeEvents of a null-valued %s record = %d, want 1", op, n)
		}
	}
}

// TestMetricsTransactionLag: each stage observes its time after the
// commit, a time before the commit (clock skew) counts as 0, a zero send
// time skips the sent stage, and without metrics nothing is observed.
func TestMetricsTransactionLag(t *testing.T) {
	m := newMetrics()
	commit := time.Now().Add(-time.Second)
	m.lag.begun(commit, commit.Add(2*time.Millisecond), commit.Add(40*time.Millisecond))
	m.lag.begun(commit, time.Time{}, commit.Add(-time.Millisecond))
	m.lag.ackedAfter(time.Second)
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	type obs struct {
		n   uint64
		sum float64
	}
	got := map[string]obs{}
	for _, f := range fams {
		if f.GetName() != "walrelay_transaction_lag_seconds" {
			continue
		}
		for _, mt := range f.GetMetric() {
			h := mt.GetHistogram()
			got[mt.GetLabel()[0].GetValue()] = obs{h.GetSampleCount(), h.GetSampleSum()}
		}
	}
	near := func(a, b float64) bool { return a > b-0.0005 && a < b+0.0005 }
	if s := got["sent"]; s.n != 1 || !near(s.sum, 0.002) {
		t.Errorf("sent: %+v, want one observation of 2 ms", s)
	}
	if r := got["received"]; r.n != 2 || !near(r.sum, 0.040) {
		t.Errorf("received: %+v, want 40 ms and 0 (skew)", r)
	}
	if a := got["acked"]; a.n != 1 || a.sum < 1 || a.sum > 30 {
		t.Errorf("acked: %+v, want one observation of about a second", a)
	}
	var off *lagHistograms
	off.begun(commit, commit, commit)
	off.ackedAfter(time.Second)
}

// TestAckLag: the progress report gets the newest transaction's
// commit-to-Kafka time and the longest since the report before; a period
// in which nothing was acknowledged keeps the newest, which is also its
// longest (TestAckLagWindowHoldsNewest).
func TestAckLag(t *testing.T) {
	var a ackLag
	if _, _, at := a.take(); !at.IsZero() {
		t.Fatal("a lag before any transaction was acknowledged")
	}
	a.set(30 * time.Millisecond)
	a.set(200 * time.Millisecond)
	a.set(10 * time.Millisecond)
	if last, longest, at := a.take(); last != 10*time.Millisecond || longest != 200*time.Millisecond || at.IsZero() {
		t.Errorf("first period: newest %s, longest %s, at %v; want 10ms, 200ms", last, longest, at)
	}
	if last, longest, _ := a.take(); last != 10*time.Millisecond || longest != 10*time.Millisecond {
		t.Errorf("idle period: newest %s, longest %s; want 10ms for both", last, longest)
	}
}

// gaugeValue gathers m and returns the value of its gauge name (the first
// series), failing the test when there is none.
func gaugeValue(t *testing.T, m *metrics, name string) float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
