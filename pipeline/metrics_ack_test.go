package pipeline

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/sink"
)

// ackTopic is the one topic of ackEncoder's records.
const ackTopic = "met.acks"

// ackEncoder encodes a change as one record on ackTopic, and a delete as
// that and its tombstone; a heartbeat goes to its topic.
type ackEncoder struct{}

func (ackEncoder) Encode(ch *event.Change) ([]event.Record, error) {
	topic := ackTopic
	if ch.Topic != "" {
		topic = ch.Topic
	}
	recs := []event.Record{{Topic: topic, Key: []byte("k"), Value: []byte("{}")}}
	if ch.Op == event.OpDelete {
		recs = append(recs, event.Record{Topic: topic, Key: []byte("k")})
	}
	return recs, nil
}

func (ackEncoder) EncodeTransaction(*schema.TxMetadata, string) (event.Record, error) {
	return event.Record{}, nil
}

// heldKafka is a kfake broker whose produce responses wait while held:
// Kafka is unreachable for what was sent, as in a broker outage.
type heldKafka struct {
	c    *kfake.Cluster
	held atomic.Bool
}

func newHeldKafka(t *testing.T) *heldKafka {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, ackTopic, "met.hb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	k := &heldKafka{c: c}
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() {
			for k.held.Load() {
				time.Sleep(5 * time.Millisecond)
			}
		})
		return nil, nil, false
	})
	return k
}

// ackSession is a streaming session with a real sink on k, a tracker, an
// ackEncoder and metrics, and its publisher.
func ackSession(t *testing.T, k *heldKafka, heartbeatTopic string) (*session, *publisher, *metrics) {
	t.Helper()
	cfg := &config.Config{}
	cfg.Postgres.Slot, cfg.Heartbeat.Topic = "met_slot", heartbeatTopic
	m := newMetrics()
	s := &session{cfg: cfg, log: zerolog.Nop(), rs: &runState{metrics: m}, enc: ackEncoder{}}
	s.tracker = checkpoint.NewTracker(1000, 1<<20)
	s.committer = checkpoint.NewCommitter(s.tracker, nil, "met_slot", 0, zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snk, err := sink.New(ctx, sink.Config{Brokers: k.c.ListenAddrs(), BackoffMin: 5 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond, MaxAttempts: 1000, RequestTimeout: 30 * time.Second}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.held.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = snk.Close(ctx)
	})
	s.sink = snk
	s.reader.s = s
	p := newPublisher(s)
	s.reader.pub = p
	m.streaming(s)
	return s, p, m
}

// publishTxn publishes chs in one transaction at lsn, committed.
func publishTxn(t *testing.T, s *session, p *publisher, lsn event.LSN, chs ...*event.Change) {
	t.Helper()
	txn := s.tracker.Begin(lsn)
	for _, ch := range chs {
		if err := p.publish(context.Background(), txn, ch); err != nil {
			t.Fatal(err)
		}
	}
	txn.Commit(lsn + 1)
}

// drained waits until Kafka acknowledged everything in flight.
func drained(t *testing.T, s *session) {
	t.Helper()
	s.sink.SendNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.tracker.Drain(ctx); err != nil {
		t.Fatalf("not acknowledged: %v", err)
	}
}

// tableEvents returns walrelay_table_events_total by "table op".
func tableEvents(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "walrelay_table_events_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["table"]+" "+labels["op"]] = mt.GetCounter().GetValue()
		}
	}
	return got
}

// counterValue gathers m and returns the value of its counter name.
func counterValue(t *testing.T, m *metrics, name string) float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestEventsCountedAtAcknowledgement: walrelay_events_total,
// walrelay_table_events_total and the events of status and the progress
// line count what Kafka acknowledged, as README says ("as they are on the
// topic"): not what was handed to the sink while Kafka does not answer (the
// audit saw 3810 "published" with 1810 acknowledged), and an event sent
// again after a restart counts again once Kafka took it again.
func TestEventsCountedAtAcknowledgement(t *testing.T) {
	t.Parallel()
	k := newHeldKafka(t)
	s, p, m := ackSession(t, k, "")
	rel := &event.Relation{Schema: "public", Table: "met_a"}
	txn := func(lsn event.LSN) {
		publishTxn(t, s, p, lsn, &event.Change{Op: event.OpCreate, Relation: rel},
			&event.Change{Op: event.OpCreate, Relation: rel}, &event.Change{Op: event.OpDelete, Relation: rel},
			&event.Change{Op: event.OpMessage, Message: &event.LogicalMessage{Prefix: "app", Content: []byte("x")}})
	}
	k.held.Store(true)
	txn(100)
	s.sink.SendNow()
	time.Sleep(300 * time.Millisecond)
	if inflight, _, _ := s.tracker.Stats(); inflight != 5 {
		t.Fatalf("%d records in flight, want 5 (held by the broker)", inflight)
	}
	if ev, tables := counterValue(t, m, "walrelay_events_total"), tableEvents(t, m); ev != 0 || len(tables) != 0 {
		t.Errorf("while Kafka acknowledged nothing: events_total %v, table_events_total %v; want 0 and none", ev, tables)
	}
	k.held.Store(false)
	drained(t, s)
	if ev := counterValue(t, m, "walrelay_events_total"); ev != 4 {
		t.Errorf("acknowledged: events_total %v, want 4 (2 creates, a delete, a message; no tombstone)", ev)
	}
	txn(200) // the replay after a restart: on the topic again
	drained(t, s)
	got := tableEvents(t, m)
	if ev := counterValue(t, m, "walrelay_events_total"); ev != 8 || got["public.met_a c"] != 4 || got["public.met_a d"] != 2 {
		t.Errorf("replayed and acknowledged again: events_total %v, table_events_total %v; want 8, c 4, d 2", ev, got)
	}
}

// TestHeartbeatLagAtAcknowledgement: walrelay_heartbeat_lag_seconds is
// emit-to-acknowledged, as its HELP says: a heartbeat Kafka does not
// acknowledge makes it grow, and its acknowledgement measures it. Before,
// it was measured when the publisher handled the heartbeat, and read a few
// milliseconds for the whole of an outage.
func TestHeartbeatLagAtAcknowledgement(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, topic string }{{"published", "met.hb"}, {"not published", ""}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			k := newHeldKafka(t)
			s, p, m := ackSession(t, k, c.topic)
			rel := &event.Relation{Schema: "public", Table: "met_hb"}
			k.held.Store(true)
			publishTxn(t, s, p, 100, &event.Change{Op: event.OpCreate, Relation: rel}) // in flight
			emitted := time.Now().Add(-time.Second)
			txn := s.tracker.Begin(200)
			if err := p.publish(context.Background(), txn, heartbeatChange(heartbeatContent("met_slot", emitted))); err != nil {
				t.Fatal(err)
			}
			txn.Commit(201)
			s.sink.SendNow()
			time.Sleep(700 * time.Millisecond)
			if lag := gaugeValue(t, m, "walrelay_heartbeat_lag_seconds"); lag < 1.6 {
				t.Errorf("heartbeat lag %.3f s while Kafka acknowledges nothing, want >= 1.7 s and growing", lag)
			}
			k.held.Store(false)
			drained(t, s)
			if c.topic == "" { // measured at the acknowledgement of the next record
				publishTxn(t, s, p, 300, &event.Change{Op: event.OpCreate, Relation: rel})
				drained(t, s)
			}
			lag, at := p.heartbeat.get()
			if !at.Equal(emitted) || lag < 1700*time.Millisecond || lag > time.Minute {
				t.Errorf("acknowledged: lag %s of the heartbeat of %s, want >= 1.7 s of the one of %s", lag, at, emitted)
			}
			m.ended(s) // the pipeline halts: the Run keeps the heartbeat lag
			if got := gaugeValue(t, m, "walrelay_heartbeat_lag_seconds"); got < 1.7 {
				t.Errorf("between sessions: heartbeat lag %.3f s, want the last one (>= 1.7 s)", got)
			}
		})
	}
}
