package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// demoTopics are the topics of the demo's tables under prefix.
func demoTopics(prefix string) []string {
	return []string{prefix + ".walrelay_demo.customers", prefix + ".walrelay_demo.orders"}
}

// demoOffsets are the offsets where this run's records start, by topic and
// partition: the end offsets of the demo's topics before this run wrote to
// them. A topic or partition that is not in them starts at 0.
type demoOffsets map[string]map[int32]int64

// demoStartOffsets returns the end offsets of the demo's topics now, so that
// a demo run against brokers that kept an earlier run's topics reads only
// its own records. Topics that do not exist yet are left out.
func demoStartOffsets(ctx context.Context, brokers []string, prefix string) (demoOffsets, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("demo: Kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, demoTopics(prefix)...)
	if err != nil {
		return nil, fmt.Errorf("demo: reading the end offsets of the demo's topics: %w", err)
	}
	from := demoOffsets{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil { // a topic not created yet: UNKNOWN_TOPIC_OR_PARTITION
			return
		}
		if from[o.Topic] == nil {
			from[o.Topic] = map[int32]int64{}
		}
		from[o.Topic][o.Partition] = o.Offset
	})
	return from, nil
}

// printDemoEvents reads the demo's topics and prints each record of this
// run (at or after from) as a consumer sees it, until all demoEvents arrived
// or 30 s passed. Records an earlier run left in the topics are skipped.
func printDemoEvents(ctx context.Context, brokers []string, prefix string, from demoOffsets, say func(string, ...any)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(demoTopics(prefix)...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("demo: consumer: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seen := 0
	for seen < demoEvents {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %d of %d records after 30 s", errDemoIncomplete, seen, demoEvents)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset < from[r.Topic][r.Partition] {
				return // an earlier run's
			}
			seen++
			say("%s", describeRecord(r))
		})
	}
	return nil
}

// describeRecord renders one record on a few lines: topic, key, event ID, op
// and the row images.
func describeRecord(r *kgo.Record) string {
	var id string
	for _, h := range r.Headers {
		if h.Key == "ce_id" {
			id = string(h.Value)
		}
	}
	if r.Value == nil {
		return fmt.Sprintf("  %-28s key=%s  ce_id=%s  (tombstone)", r.Topic, r.Key, id)
	}
	var env struct {
		Op     string          `json:"op"`
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}
	_ = json.Unmarshal(r.Value, &env)
	line := fmt.Sprintf("  %-28s key=%s  ce_id=%s  op=%s", r.Topic, r.Key, id, env.Op)
	if len(env.Before) > 0 && !bytes.Equal(env.Before, []byte("null")) {
		line += "\n      before=" + string(env.Before)
	}
	if len(env.After) > 0 && !bytes.Equal(env.After, []byte("null")) {
		line += "\n      after=" + string(env.After)
	}
	return line
}
