package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestKafkaTopicConfig: the topics walrelay creates get kafka.topic_config
// (here compaction and a retention), as Kafka Connect's
// topic.creation.default.* would set them.
func TestKafkaTopicConfig(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public.tc (id int PRIMARY KEY)`)
	cfg := newRelayConfig(t, dsn, brokers, "public.tc")
	cfg.set("kafka.topic_config", map[string]string{"cleanup.policy": "compact", "retention.ms": "3600000"})
	startRelay(t, cfg)
	mustExec(t, conn, `INSERT INTO public.tc VALUES (1)`)
	col := newCollector(t, brokers, cfg.topic("public.tc"))
	col.waitFor(30*time.Second, "the insert", func() bool { return len(col.recs) >= 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rcs, err := col.adm.DescribeTopicConfigs(ctx, cfg.topic("public.tc"))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(cfg.topic("public.tc"), nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", cfg.topic("public.tc"), err, rc.Err)
	}
	got := map[string]string{}
	for _, c := range rc.Configs {
		if c.Value != nil {
			got[c.Key] = *c.Value
		}
	}
	if got["cleanup.policy"] != "compact" || got["retention.ms"] != "3600000" {
		t.Errorf("topic configs cleanup.policy=%q retention.ms=%q, want compact and 3600000", got["cleanup.policy"], got["retention.ms"])
	}
}

// TestKafkaTopicConfigRefused: a topic configuration the broker refuses
// stops walrelay with exit code 1 and an error naming kafka.topic_config,
// instead of restarting for ever.
func TestKafkaTopicConfigRefused(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public.tb (id int PRIMARY KEY)`)
	cfg := newRelayConfig(t, dsn, brokers, "public.tb")
	cfg.set("kafka.topic_config", map[string]string{"cleanup.policy": "bogus"})
	r := startRelay(t, cfg)
	mustExec(t, conn, `INSERT INTO public.tb VALUES (1)`)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("walrelay still runs 30 s after the broker refused the topic configuration")
	}
	if code := r.state.ExitCode(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if tail := r.cfg.logTail(30); !strings.Contains(tail, "fix kafka.topic_config") {
		t.Errorf("no error naming kafka.topic_config in the log:\n%s", tail)
	}
}

// TestKafkaTopicConfigCheck: `walrelay check` validates kafka.topic_config
// against the broker (a validate-only CreateTopics, nothing created): a
// setting the broker refuses is a FAIL line with the fix, and exit 1.
func TestKafkaTopicConfigCheck(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	mustExec(t, connect(t, dsn), checkDDL)
	cfg := newRelayConfig(t, dsn, kafkaBrokers(t), "public.chk_good")
	cfg.set("kafka.topic_config", map[string]string{"cleanup.policy": "bogus"})
	out, code := runCheck(t, cfg)
	if code != 1 {
		t.Errorf("check with a refused kafka.topic_config exited %d, want 1", code)
	}
	requireProblem(t, out, "the broker refuses kafka.topic_config", "fix kafka.topic_config")
}
