package sink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRealBrokerPrepareCreatesTopics: against a real broker, Prepare
// creates 300 topics with the configured partitions in a few requests (one
// Metadata, one CreateTopics, one Metadata, plus retries), and one record
// Sent to each afterwards is delivered to it.
func TestRealBrokerPrepareCreatesTopics(t *testing.T) {
	brokers := realBrokers(t)
	prefix := fmt.Sprintf("walrelay.sinktest.prepare%d", time.Now().UnixNano())
	var topics []string
	for i := range 300 {
		topics = append(topics, fmt.Sprintf("%s.public.t%03d", prefix, i))
	}
	t.Cleanup(func() { deleteTopics(brokers, topics) })
	cfg := realConfig(brokers)
	cfg.TopicPartitions = 3
	s := startSink(t, cfg)
	began := time.Now()
	p, err := s.Prepare(context.Background(), topics)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	t.Logf("Prepare of %d topics: %+v in %s", len(topics), p, time.Since(began))
	if p.Created != 300 || p.Left != 0 {
		t.Errorf("Prepare did %+v, want 300 topics created", p)
	}
	if p.Requests > 6 {
		t.Errorf("Prepare made %d requests for 300 topics, want about 3", p.Requests)
	}
	got := listPartitions(t, brokers, topics...)
	for _, tp := range topics {
		if got[tp] != 3 {
			t.Fatalf("topic %s has %d partitions, want the configured 3", tp, got[tp])
		}
	}
	a := newAcks(len(topics))
	for i, tp := range topics {
		if err := s.Send(context.Background(), testRecord(tp, i, i, a)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	s.SendNow()
	a.wait(t, 60*time.Second)
	if recs := consume(t, brokers, topics[7], 1, 10*time.Second); len(recs) != 1 || recordNumber(t, recs[0]) != 7 {
		t.Errorf("topic %s holds %d records, want record 7", topics[7], len(recs))
	}
}

// deleteTopics deletes topics on brokers, ignoring errors.
func deleteTopics(brokers, topics []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = kadm.NewClient(cl).DeleteTopics(ctx, topics...)
}

// TestRealBrokerPrepareCollidingTopics: two topics Kafka treats as the same
// ('.' and '_') are not created in one batch, which a real broker accepts:
// the first is created, the second is left to Send, whose creation Kafka
// refuses as it does without Prepare.
func TestRealBrokerPrepareCollidingTopics(t *testing.T) {
	brokers := realBrokers(t)
	prefix := fmt.Sprintf("walrelay.sinktest.collide%d", time.Now().UnixNano())
	dotted, underscored := prefix+".public.a.b", prefix+".public.a_b"
	t.Cleanup(func() { deleteTopics(brokers, []string{dotted, underscored}) })
	s := startSink(t, realConfig(brokers))
	p, err := s.Prepare(context.Background(), []string{underscored, dotted})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if p.Created != 1 || p.Left != 1 {
		t.Errorf("Prepare did %+v, want 1 created and 1 left", p)
	}
	got := listPartitions(t, brokers, dotted, underscored)
	if len(got) != 1 {
		t.Fatalf("topics %v exist, want only one of two colliding topics", got)
	}
	err = s.Send(context.Background(), testRecord(underscored, 1, 0, newAcks(1)))
	if err == nil || !strings.Contains(err.Error(), "collides") {
		t.Errorf("Send to the second colliding topic: %v, want Kafka's collision refusal", err)
	}
}
