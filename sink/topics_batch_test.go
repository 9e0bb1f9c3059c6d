package sink

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// createCounter counts the CreateTopics requests a fake cluster receives
// and the topics they name, without changing how the cluster answers.
type createCounter struct {
	mu               sync.Mutex
	requests, topics int
}

func countCreates(c *kfake.Cluster) *createCounter {
	cc := &createCounter{}
	c.ControlKey(int16(kmsg.CreateTopics), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		cc.requests++
		cc.topics += len(kr.(*kmsg.CreateTopicsRequest).Topics)
		return nil, nil, false
	})
	return cc
}

func (cc *createCounter) get() (requests, topics int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.requests, cc.topics
}

// partitionCounts returns the partition count of each topic on brokers.
func listPartitions(t *testing.T, brokers []string, topics ...string) map[string]int {
	t.Helper()
	adm, ctx := admin(t, brokers, 30*time.Second)
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range details {
		if d.Err == nil {
			out[d.Topic] = len(d.Partitions)
		}
	}
	return out
}

// TestPrepareCreatesTopicsInBatches: Prepare creates 1,100 topics with the
// configured partitions in 3 CreateTopics requests (500 a request), and the
// records sent to them afterwards create nothing more; a later sink finds
// them all without creating any.
func TestPrepareCreatesTopicsInBatches(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	cc := countCreates(c)
	cfg := fastConfig(brokers)
	cfg.TopicPartitions = 3
	s, logs := startLoggedSink(t, cfg)
	var topics []string
	for i := range 1100 {
		topics = append(topics, fmt.Sprintf("prep.public.t%04d", i))
	}
	p, err := s.Prepare(context.Background(), append(topics, topics[:10]...)) // duplicates are asked once
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if p.Topics != 1100 || p.Created != 1100 || p.Existing != 0 || p.Left != 0 {
		t.Errorf("Prepare did %+v, want 1100 topics created", p)
	}
	if req, n := cc.get(); req != 3 || n != 1100 {
		t.Errorf("Prepare sent %d CreateTopics requests naming %d topics, want 3 naming 1100", req, n)
	}
	// One summary line at info, not one per topic (2,000 tables made 2,000 lines).
	if n, sum := len(logLines(t, logs, "info", "kafka: created topic")), logLines(t, logs, "info", "kafka: topics prepared"); n != 0 || len(sum) != 1 {
		t.Errorf("%d info lines per created topic and %d summary lines, want none and one", n, len(sum))
	}
	got := listPartitions(t, brokers, topics...)
	for _, tp := range topics {
		if got[tp] != 3 {
			t.Fatalf("topic %s has %d partitions, want the configured 3", tp, got[tp])
		}
	}
	a := newAcks(200)
	for i := range 200 {
		if err := s.Send(context.Background(), testRecord(topics[i*5], i, i, a)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	s.SendNow()
	a.wait(t, 20*time.Second)
	if req, _ := cc.get(); req != 3 {
		t.Errorf("Send made %d more CreateTopics requests after Prepare, want none", req-3)
	}
	if recs := consume(t, brokers, topics[5], 1, 10*time.Second); len(recs) != 1 || recordNumber(t, recs[0]) != 1 {
		t.Errorf("topic %s holds %d records, want record 1", topics[5], len(recs))
	}

	again := startSink(t, cfg)
	p, err = again.Prepare(context.Background(), topics)
	if err != nil || p.Existing != 1100 || p.Created != 0 || p.Left != 0 {
		t.Errorf("a second sink's Prepare did %+v, %v; want 1100 existing topics", p, err)
	}
	if req, _ := cc.get(); req != 3 {
		t.Errorf("a second sink's Prepare made %d CreateTopics requests for existing topics, want none", req-3)
	}
}

// TestPrepareLeavesRefusalsToSend: a topic whose creation the broker refuses
// in the batch, and a name Kafka forbids, are left to Send, whose records
// then go to the dead-letter topic exactly as without Prepare; Prepare
// itself does not fail.
func TestPrepareLeavesRefusalsToSend(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.CreateTopics}, Topic: "policy", Err: kerr.PolicyViolation, Count: -1})
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "dlq"
	s := startSink(t, cfg)
	p, err := s.Prepare(context.Background(), []string{"fine", "policy", "bad topic!"})
	if err != nil {
		t.Fatalf("Prepare failed on refusals it should leave to Send: %v", err)
	}
	if p.Topics != 3 || p.Created != 1 || p.Left != 2 {
		t.Errorf("Prepare did %+v, want 1 created and 2 left", p)
	}
	a := newAcks(3)
	for i, tp := range []string{"fine", "policy", "bad topic!"} {
		if err := s.Send(context.Background(), testRecord(tp, 1, i, a)); err != nil {
			t.Fatalf("Send to %q: %v", tp, err)
		}
	}
	s.SendNow()
	a.wait(t, 10*time.Second)
	if got := consume(t, brokers, "fine", 1, 10*time.Second); len(got) != 1 {
		t.Errorf("topic fine holds %d records, want 1", len(got))
	}
	dlq := consume(t, brokers, "dlq", 2, 10*time.Second)
	var orig []string
	for _, r := range dlq {
		orig = append(orig, header(r, HeaderOriginalTopic))
	}
	if strings.Join(orig, ",") != "policy,bad topic!" && strings.Join(orig, ",") != "bad topic!,policy" {
		t.Errorf("dead-lettered records of topics %v, want those of policy and \"bad topic!\"", orig)
	}
}

// TestPrepareWithHaltLeavesTheErrorToSend: with on_failure halt, a topic
// Prepare could not create fails its first Send with the error it has
// without Prepare.
func TestPrepareWithHaltLeavesTheErrorToSend(t *testing.T) {
	c := newFake(t)
	c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.CreateTopics}, Topic: "secret", Err: kerr.TopicAuthorizationFailed, Count: -1})
	s := startSink(t, fastConfig(c.ListenAddrs()))
	if p, err := s.Prepare(context.Background(), []string{"secret"}); err != nil || p.Left != 1 {
		t.Fatalf("Prepare did %+v, %v; want the topic left to Send and no error", p, err)
	}
	err := s.Send(context.Background(), testRecord("secret", 1, 0, newAcks(1)))
	if err == nil || !strings.Contains(err.Error(), "not authorised to create it") {
		t.Errorf("Send after Prepare: %v, want the authorisation error", err)
	}
}
