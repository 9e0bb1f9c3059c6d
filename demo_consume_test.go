package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDemoReadsOnlyItsRun: against brokers that kept an earlier demo run's
// topics, the demo prints only the records of this run, not the earlier
// run's as if they were this one's.
func TestDemoReadsOnlyItsRun(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	ctx := context.Background()
	produce := func(run string) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for i := range demoEvents {
			topic := demoTopics("demo")[i%2]
			r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(`{"op":"c"}`),
				Headers: []kgo.RecordHeader{{Key: "ce_id", Value: []byte(run + fmt.Sprint(i))}}}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, err := demoStartOffsets(ctx, brokers, "demo") // no topics yet
	if err != nil || len(first) != 0 {
		t.Fatalf("start offsets before any topic: %v, %v", first, err)
	}
	produce("earlier-")
	from, err := demoStartOffsets(ctx, brokers, "demo")
	if err != nil {
		t.Fatal(err)
	}
	produce("this-")
	var out strings.Builder
	if err := printDemoEvents(ctx, brokers, "demo", from, func(f string, a ...any) { fmt.Fprintf(&out, f+"\n", a...) }); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "ce_id=earlier-") || strings.Count(out.String(), "ce_id=this-") != demoEvents {
		t.Errorf("demo printed records of an earlier run, or not all of this run's:\n%s", out.String())
	}
}
