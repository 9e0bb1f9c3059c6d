package sink

import (
	"context"
	"strings"
	"testing"
)

// TestCheckWarnsMinInsyncAboveReplication: `walrelay check` warns (without
// failing) about a min.insync.replicas that acks=all could never meet on a
// topic walrelay creates, and says nothing when it can be met.
func TestCheckWarnsMinInsyncAboveReplication(t *testing.T) {
	t.Parallel()
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	cfg.TopicConfig = map[string]string{"min.insync.replicas": "3"}
	var warned int
	for _, r := range Check(context.Background(), cfg, "probe") {
		if r.Warn {
			warned++
			if r.OK || !strings.Contains(r.What, "min.insync.replicas 3 exceeds kafka.topic_replication_factor 1") || !strings.Contains(r.Fix, "at most 1") {
				t.Errorf("warning %+v", r)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings, want 1", warned)
	}
	cfg.TopicConfig["min.insync.replicas"] = "1"
	for _, r := range Check(context.Background(), cfg, "probe") {
		if r.Warn || !r.OK {
			t.Errorf("min.insync.replicas 1: %+v", r)
		}
	}
}
