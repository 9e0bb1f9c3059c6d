package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFirstStartPreparesTopics: a first start over 200 tables creates every
// table's topic, with the configured partitions, in batches before the
// snapshot ("kafka: topics prepared", 200 created), and delivers every
// snapshot row. Without batching each topic was created on its table's first
// record, one request after another.
func TestFirstStartPreparesTopics(t *testing.T) {
	t.Parallel()
	const n = 200
	var ddl strings.Builder
	var tables []string
	for i := range n {
		fmt.Fprintf(&ddl, "CREATE TABLE public.prep%03d (id int PRIMARY KEY, v text); INSERT INTO public.prep%03d VALUES (1, 'a'), (2, 'b');\n", i, i)
		tables = append(tables, fmt.Sprintf("public.prep%03d", i))
	}
	dsn, brokers, _ := newTestDB(t, ddl.String())
	cfg := newRelayConfig(t, dsn, brokers, tables...)
	began := time.Now()
	r := startRelay(t, cfg)
	t.Logf("first start over %d tables streams after %s", n, time.Since(began))

	prepared := r.findLog("kafka: topics prepared")
	if prepared == nil {
		t.Fatal(`no "kafka: topics prepared" line: the topics were not created in batches before the snapshot`)
	}
	if prepared["topics"] != float64(n) || prepared["created"] != float64(n) || prepared["left_to_first_write"] != float64(0) {
		t.Errorf("topics prepared: %v, want %d topics all created", prepared, n)
	}
	col := newCollector(t, brokers, cfg.topics()...)
	got := col.topicsWithPrefix(cfg.TopicPrefix + ".")
	slices.Sort(got)
	if want := cfg.topics(); !slices.Equal(got, want) {
		t.Fatalf("%d topics with the prefix, want the %d of the tables", len(got), len(want))
	}
	for _, tp := range []string{got[0], got[n/2], got[n-1]} {
		if p := col.partitions(tp); p != 3 {
			t.Errorf("topic %s has %d partitions, want kafka.topic_partitions 3", tp, p)
		}
	}
	col.waitFor(60*time.Second, "every snapshot row", func() bool { return len(col.recs) >= 2*n })
	per := map[string]int{}
	for _, rc := range col.recs {
		if rc.Env == nil || rc.Env.Op != "r" {
			t.Fatalf("record %s@%d is not a snapshot read", rc.Topic, rc.Offset)
		}
		per[rc.Topic]++
	}
	for _, tp := range cfg.topics() {
		if per[tp] != 2 {
			t.Errorf("topic %s holds %d snapshot rows, want 2", tp, per[tp])
		}
	}
}

// TestPreparedTopicsFollowRules: with rules, a table the rules drop gets no
// topic, a table routed by a rule gets the rule's topic, and an outbox
// table's value-dependent topics are not guessed; every captured table gets
// its topic at start even when it is empty (README: topics).
func TestPreparedTopicsFollowRules(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, `
		CREATE TABLE public.kept (id int PRIMARY KEY);
		CREATE TABLE public.routed (id int PRIMARY KEY);
		CREATE TABLE public.dropped (id int PRIMARY KEY);
		CREATE TABLE public.outbox (id text PRIMARY KEY, aggregate_type text, payload text);`)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, `
default: drop
rules:
  - tables: [public.kept]
  - tables: [public.routed]
    topic: PREFIX.custom.${table}
  - tables: [public.outbox]
    outbox: {id: id, topic: "PREFIX.out.${aggregate_type}", payload: payload}
`)
	r := startRelay(t, cfg)
	if p := r.findLog("kafka: topics prepared"); p == nil || p["created"] != float64(2) {
		t.Errorf("topics prepared: %v, want 2 created", p)
	}
	col := newCollector(t, brokers)
	got := col.topicsWithPrefix(cfg.TopicPrefix + ".")
	slices.Sort(got)
	want := []string{cfg.TopicPrefix + ".custom.routed", cfg.topic("public.kept")}
	if !slices.Equal(got, want) {
		t.Errorf("topics after start %q, want %q", got, want)
	}
}
