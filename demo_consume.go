package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// printDemoEvents reads the demo's topics from the start and prints each
// record as a consumer sees it, until all demoEvents arrived or 30 s passed.
func printDemoEvents(ctx context.Context, brokers []string, prefix string, say func(string, ...any)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(prefix+".walrelay_demo.customers", prefix+".walrelay_demo.orders"),
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
