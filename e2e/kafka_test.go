package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// collector reads a test's topics from their start with franz-go and hands
// every record to handle (by default: parse it and append it to recs). It is
// used from the test goroutine only.
type collector struct {
	t      *testing.T
	cl     *kgo.Client
	adm    *kadm.Client
	opts   []kgo.Opt // how to reach the brokers (seeds, TLS, SASL)
	topics []string
	handle func(*kgo.Record)
	recs   []*rec
	next   map[string]map[int32]int64 // next offset to read, per topic and partition
	bad    int                        // records that did not parse
}

// newCollector starts a consumer of topics (which may not exist yet) from the
// earliest offset; t's cleanup closes it. Records are parsed into recs.
func newCollector(t *testing.T, brokers []string, topics ...string) *collector {
	t.Helper()
	c := newCollectorWith(t, []kgo.Opt{kgo.SeedBrokers(brokers...)}, topics...)
	t.Cleanup(c.cl.Close)
	return c
}

// newCollectorWith is newCollector with a client made from opts (brokers,
// TLS, SASL); the caller closes c.cl.
func newCollectorWith(t *testing.T, opts []kgo.Opt, topics ...string) *collector {
	t.Helper()
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.MetadataMinAge(100*time.Millisecond),
		kgo.MetadataMaxAge(2*time.Second),
	)...)
	if err != nil {
		t.Fatalf("kafka consumer: %v", err)
	}
	c := &collector{t: t, cl: cl, adm: kadm.NewClient(cl), opts: opts, topics: topics, next: map[string]map[int32]int64{}}
	c.handle = c.keep
	return c
}

// keep is the default handler: parse and append.
func (c *collector) keep(kr *kgo.Record) {
	r, err := parseRecord(kr)
	if err != nil {
		c.bad++
		if c.bad <= 10 {
			c.t.Errorf("unparsable record %s[%d]@%d: %v", kr.Topic, kr.Partition, kr.Offset, err)
		}
		return
	}
	c.recs = append(c.recs, r)
}

// poll reads whatever arrives within d.
func (c *collector) poll(d time.Duration) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	fs := c.cl.PollFetches(ctx)
	for _, fe := range fs.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || kerr.IsRetriable(fe.Err) {
			continue // no data yet, a topic not created yet, a leader moving
		}
		c.t.Fatalf("consume %s[%d]: %v", fe.Topic, fe.Partition, fe.Err)
	}
	fs.EachRecord(func(kr *kgo.Record) {
		ps := c.next[kr.Topic]
		if ps == nil {
			ps = map[int32]int64{}
			c.next[kr.Topic] = ps
		}
		ps[kr.Partition] = kr.Offset + 1
		c.handle(kr)
	})
}

// waitFor polls until cond holds; it fails the test after timeout, naming what.
func (c *collector) waitFor(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		c.poll(250 * time.Millisecond)
	}
}

// endOffsets lists the current end offset of every partition of the topics
// that exist.
func (c *collector) endOffsets() map[string]map[int32]int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A fresh client: the consumer's cached metadata can still say "no such
	// topic" for a topic the relay created a moment ago, and its records
	// would then be skipped.
	cl, err := kgo.NewClient(c.opts...)
	if err != nil {
		c.t.Fatalf("kafka admin client: %v", err)
	}
	defer cl.Close()
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, c.topics...)
	if err != nil {
		c.t.Fatalf("list end offsets of %v: %v", c.topics, err)
	}
	ends := map[string]map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			if !errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
				c.t.Fatalf("end offset of %s[%d]: %v", o.Topic, o.Partition, o.Err)
			}
			return
		}
		if ends[o.Topic] == nil {
			ends[o.Topic] = map[int32]int64{}
		}
		ends[o.Topic][o.Partition] = o.Offset
	})
	return ends
}

// readToEnd reads every record written before the call (up to the end
// offsets listed now), failing the test after timeout.
func (c *collector) readToEnd(timeout time.Duration) {
	c.t.Helper()
	ends := c.endOffsets()
	c.waitFor(timeout, "the end offsets "+formatOffsets(ends), func() bool {
		for tp, ps := range ends {
			for p, end := range ps {
				if c.next[tp][p] < end {
					return false
				}
			}
		}
		return true
	})
}

// partitions returns the number of partitions of topic.
func (c *collector) partitions(topic string) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	td, err := c.adm.ListTopics(ctx, topic)
	if err != nil {
		c.t.Fatalf("describe topic %s: %v", topic, err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		c.t.Fatalf("describe topic %s: missing or %v", topic, d.Err)
	}
	return len(d.Partitions)
}

// topicsWithPrefix lists the broker's topics that start with prefix.
func (c *collector) topicsWithPrefix(prefix string) []string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	td, err := c.adm.ListTopics(ctx)
	if err != nil {
		c.t.Fatalf("list topics: %v", err)
	}
	var out []string
	for name := range td {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	return out
}

func formatOffsets(m map[string]map[int32]int64) string {
	var b strings.Builder
	for tp, ps := range m {
		for p, o := range ps {
			b.WriteString(" " + tp + "[" + itoa(int64(p)) + "]=" + itoa(o))
		}
	}
	return strings.TrimSpace(b.String())
}
