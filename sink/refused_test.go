package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// refusedTopics are the topics of tables public."a.b", public."a_b" and
// public.orders under a fresh prefix, the dead-letter topic, and a default
// topic longer than 249 characters; the created ones are deleted after the
// test.
type refusedTopics struct {
	ab, aUnderB, orders, long, dlq string
}

func newRefusedTopics(t *testing.T, brokers []string) refusedTopics {
	p := fmt.Sprintf("walrelay.sinktest.refused%d", time.Now().UnixNano())
	rt := refusedTopics{
		ab: p + ".public.a.b", aUnderB: p + ".public.a_b", orders: p + ".public.orders",
		long: p + ".public." + strings.Repeat("t", 63) + "." + strings.Repeat("u", 200), dlq: p + ".dlq",
	}
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			return
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = kadm.NewClient(cl).DeleteTopics(ctx, rt.ab, rt.aUnderB, rt.orders, rt.dlq)
	})
	return rt
}

// TestRealBrokerDeadLettersRefusedTopics: in dead_letter mode, the records
// of table a_b, whose default topic collides with a.b's under Kafka's
// '.'/'_' rule, and of a table whose topic is longer than 249 characters go
// to the dead-letter topic with the reason in walrelay.error, in order; the
// records of a.b and orders keep flowing; every record is acked.
func TestRealBrokerDeadLettersRefusedTopics(t *testing.T) {
	brokers := realBrokers(t)
	rt := newRefusedTopics(t, brokers)
	cfg := realConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, rt.dlq
	s := startSink(t, cfg)

	topics := []string{rt.ab, rt.aUnderB, rt.orders, rt.long}
	const n = 40
	a := newAcks(n)
	for i := range n {
		if err := s.Send(context.Background(), testRecord(topics[i%4], i%3, i, a)); err != nil {
			t.Fatalf("Send(%d) to %s: %v", i, topics[i%4], err)
		}
	}
	s.SendNow()
	a.wait(t, 30*time.Second)
	if counts, _ := a.snapshot(); len(counts) != n {
		t.Fatalf("%d records acked, want %d", len(counts), n)
	}

	for k, topic := range []string{rt.ab, rt.orders} {
		var got []int
		for _, r := range consume(t, brokers, topic, n/4, 15*time.Second) {
			got = append(got, recordNumber(t, r))
		}
		if len(got) != n/4 {
			t.Errorf("topic %s holds records %v, want the %d sent to it", topic, got, n/4)
		}
		for _, i := range got {
			if i%4 != []int{0, 2}[k] {
				t.Errorf("topic %s holds record %d, sent to %s", topic, i, topics[i%4])
			}
		}
	}

	byTopic := map[string][]int{}
	last := map[string]int{} // by original topic and key, the last record number
	for _, r := range consume(t, brokers, rt.dlq, n/2, 15*time.Second) {
		orig, i := header(r, HeaderOriginalTopic), recordNumber(t, r)
		byTopic[orig] = append(byTopic[orig], i)
		if k := orig + "/" + string(r.Key); last[k] > i {
			t.Errorf("dead-lettered records of %s with key %s out of order: %d after %d", orig, r.Key, i, last[k])
		} else {
			last[k] = i
		}
		e := header(r, HeaderError)
		want := "collides"
		if orig == rt.long {
			want = "longer than Kafka's limit of 249 characters"
		}
		if !strings.Contains(e, want) || !strings.Contains(e, "rule with `topic:`") {
			t.Errorf("%s header of a record of %s: %q; want the reason (%q) and the fix", HeaderError, orig, e, want)
		}
		if p := header(r, HeaderOriginalPartition); p != "-1" {
			t.Errorf("%s header %q, want -1 (the topic has no partitions)", HeaderOriginalPartition, p)
		}
	}
	for _, topic := range []string{rt.aUnderB, rt.long} {
		got := byTopic[topic]
		if len(got) != n/4 {
			t.Errorf("dead-letter topic holds records %v of %s, want the %d sent to it", got, topic, n/4)
		}
	}
	if st := s.Stats(); st.DeadLettered != n/2 || st.Records != n || st.Pending != 0 {
		t.Errorf("stats %+v, want %d dead-lettered, %d records, none pending", st, n/2, n)
	}
	if routed, _ := s.counts.targets(rt.dlq); routed[rt.aUnderB] != nil || routed[rt.long] != nil {
		t.Errorf("the refresher describes refused topics: %v", routed)
	}
}

// TestRealBrokerRefusedTopicHalts: in halt mode, Send to a topic Kafka
// refuses fails at once with an error that names the topic, Kafka's reason
// and the fix, and that the pipeline treats as one a restart cannot fix
// (ErrTopicRefused); a name longer than 249 characters is refused before
// any request (the reason is walrelay's, not the broker's).
func TestRealBrokerRefusedTopicHalts(t *testing.T) {
	brokers := realBrokers(t)
	rt := newRefusedTopics(t, brokers)
	s := startSink(t, realConfig(brokers))
	a := newAcks(1)
	if err := s.Send(context.Background(), testRecord(rt.ab, 1, 0, a)); err != nil {
		t.Fatalf("Send to %s: %v", rt.ab, err)
	}
	a.wait(t, 30*time.Second)

	for _, c := range []struct{ topic, reason string }{
		{rt.aUnderB, "collides with existing topic: " + rt.ab},
		{rt.long, "longer than Kafka's limit of 249 characters"},
	} {
		start := time.Now()
		err := s.Send(context.Background(), testRecord(c.topic, 1, 1, newAcks(1)))
		if !errors.Is(err, ErrTopicRefused) {
			t.Fatalf("Send to %s: %v, want ErrTopicRefused", c.topic, err)
		}
		msg := err.Error()
		for _, want := range []string{fmt.Sprintf("%q", c.topic), c.reason, "rule with `topic:`", "kafka.on_failure: dead_letter"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send to %s took %s: a refusal must not be retried", c.topic, d)
		}
	}
}

// TestRefusedTopicPolicyAndTransientCreate: a create-topic policy's refusal
// (POLICY_VIOLATION) sends the topic's records to the dead-letter topic; a
// transient refusal (NOT_CONTROLLER) is retried and the topic is created.
func TestRefusedTopicPolicyAndTransientCreate(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	var mu sync.Mutex
	flakyRefused := false
	c.ControlKey(int16(kmsg.CreateTopics), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.CreateTopicsRequest)
		code := int16(0)
		mu.Lock()
		switch req.Topics[0].Topic {
		case "policy":
			code = kerr.PolicyViolation.Code
		case "flaky":
			if !flakyRefused {
				flakyRefused, code = true, kerr.NotController.Code
			}
		}
		mu.Unlock()
		if code == 0 {
			return nil, nil, false
		}
		res := req.ResponseKind().(*kmsg.CreateTopicsResponse)
		res.Version = req.Version
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic, rt.ErrorCode = req.Topics[0].Topic, code
		res.Topics = append(res.Topics, rt)
		return res, nil, true
	})
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "dlq"
	s := startSink(t, cfg)
	a := newAcks(6)
	for i := range 6 {
		if err := s.Send(context.Background(), testRecord([]string{"policy", "flaky"}[i%2], 1, i, a)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	s.SendNow()
	a.wait(t, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if !flakyRefused {
		t.Fatal("the NOT_CONTROLLER refusal was not injected")
	}
	if got := consume(t, brokers, "flaky", 3, 10*time.Second); len(got) != 3 {
		t.Errorf("topic flaky holds %d records, want 3: a transient refusal must be retried", len(got))
	}
	dlq := consume(t, brokers, "dlq", 3, 10*time.Second)
	for _, r := range dlq {
		if header(r, HeaderOriginalTopic) != "policy" || !strings.Contains(header(r, HeaderError), "Policy Violation") ||
			!strings.Contains(header(r, HeaderError), "create.topic.policy") {
			t.Errorf("dead-lettered record with headers %v, want one of topic policy with the reason", r.Headers)
		}
	}
	if st := s.Stats(); len(dlq) != 3 || st.DeadLettered != 3 {
		t.Errorf("dead-letter topic holds %d records, stats %+v; want the 3 of topic policy", len(dlq), st)
	}
}
