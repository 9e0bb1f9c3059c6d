package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// createOnePartitionTopics creates n one-partition topics named
// walrelay.sinktest.<what>.<ns>.NNN, waits until each took a record (one
// "warm-up" record each: a partition just created answers
// NOT_LEADER_OR_FOLLOWER for a while), and deletes them after the test.
func createOnePartitionTopics(t *testing.T, brokers []string, what string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	names := make([]string, n)
	ns := time.Now().UnixNano()
	for i := range names {
		names[i] = fmt.Sprintf("walrelay.sinktest.%s.%d.%03d", what, ns, i)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, names...)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := adm.CreateTopics(ctx, 1, 1, nil, names...)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("creating %d topics: %v", n, err)
	}
	recs := make([]*kgo.Record, n)
	for i, name := range names {
		recs[i] = &kgo.Record{Topic: name, Value: []byte("warm-up")}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("warming up %d topics: %v", n, err)
	}
	return names
}

// One transaction touching 400 tables writes 400 one-partition topics at
// once. The sink keeps at most kafka.max_in_flight_requests requests in
// flight, so it holds about that many connections to the broker (plus the
// metadata one), not one per partition, and every record is still acked in
// order and written once.
func TestRealBrokerManyPartitionsBoundedConnections(t *testing.T) {
	brokers := realBrokers(t)
	const topics, perTopic, bound = 400, 5, 8
	names := createOnePartitionTopics(t, brokers, "inflight", topics)
	cfg := realConfig(brokers)
	cfg.MaxInFlightRequests = bound
	cfg.RequestTimeout = 30 * time.Second
	s := startSink(t, cfg)

	a := newAcks(topics * perTopic)
	start := time.Now()
	for i := range perTopic { // round robin: every partition has records at once
		for tp, name := range names {
			if err := s.Send(context.Background(), testRecord(name, tp, tp*perTopic+i, a)); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
	}
	s.SendNow()
	a.wait(t, time.Minute)
	conns := &s.cluster.watch.conns
	t.Logf("%d records to %d topics acked in %s; connections: %d dialled, at most %d open at once; %d retries",
		topics*perTopic, topics, time.Since(start).Round(time.Millisecond), conns.dialled.Load(), conns.peak.Load(),
		s.Stats().Retries)

	count, order := a.snapshot()
	next := make([]int, topics)
	for _, num := range order {
		tp, i := num/perTopic, num%perTopic
		if i != next[tp] || count[num] != 1 {
			t.Fatalf("topic %d: record %d acked %d times, after record %d; want each once, in Send order",
				tp, i, count[num], next[tp]-1)
		}
		next[tp]++
	}
	// + slack: the metadata connection, and kafka-go answers a request
	// before it puts the connection back in its idle pool, so the next one
	// may dial now and then. After a retriable error a fresh client dials
	// anew (see cluster), so the dials are checked only without one.
	const slack = 4
	if peak := conns.peak.Load(); peak > bound+slack {
		t.Errorf("%d connections were open at once, want at most kafka.max_in_flight_requests (%d) + %d", peak, bound, slack)
	}
	if d := conns.dialled.Load(); d > bound+slack && s.Stats().Retries == 0 {
		t.Errorf("%d connections were dialled, want at most kafka.max_in_flight_requests (%d) + %d", d, bound, slack)
	}
	checkEndOffsets(t, brokers, names, perTopic+1) // + the warm-up record
}

// checkEndOffsets checks that each topic of names holds want records.
func checkEndOffsets(t *testing.T, brokers []string, names []string, want int64) {
	t.Helper()
	adm, ctx := admin(t, brokers, 30*time.Second)
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		o, ok := ends.Lookup(name, 0)
		if !ok || o.Err != nil || o.Offset != want {
			t.Errorf("topic %s ends at %+v, want %d records", name, o, want)
		}
	}
}
