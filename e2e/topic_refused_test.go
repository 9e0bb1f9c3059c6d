package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestKafkaRefusedTopicDeadLettered: tables public."a.b" and public."a_b"
// have default topics that collide under Kafka's '.'/'_' rule, so Kafka
// refuses to create the second one. With kafka.on_failure: dead_letter the
// rows of the table whose topic was refused go to the dead-letter topic
// with the reason in walrelay.error, the other tables' rows keep flowing
// (snapshot and stream), nothing is lost, and the checkpoint passes them.
func TestKafkaRefusedTopicDeadLettered(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public."a.b" (id int PRIMARY KEY);
		CREATE TABLE public."a_b" (id int PRIMARY KEY);
		CREATE TABLE public.orders (id int PRIMARY KEY);
		INSERT INTO public."a.b" VALUES (1), (2); INSERT INTO public."a_b" VALUES (1), (2);
		INSERT INTO public.orders VALUES (1), (2)`)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, "default: capture\n")
	cfg.set("kafka.on_failure", "dead_letter")
	dlq := cfg.TopicPrefix + ".dlq"
	r := startRelay(t, cfg)
	mustExec(t, conn, `INSERT INTO public."a.b" VALUES (3); INSERT INTO public."a_b" VALUES (3); INSERT INTO public.orders VALUES (3)`)
	end := currentLSN(t, conn)

	dotted, underscored, orders := cfg.topic("public.a.b"), cfg.topic("public.a_b"), cfg.topic("public.orders")
	col := newCollector(t, brokers, dotted, underscored, orders, dlq)
	ids := func() map[string]int { // rows per table: topic, or original topic of a dead-lettered row
		n := map[string]int{}
		for _, rc := range col.recs {
			if rc.Topic == dlq {
				n[rc.Headers["walrelay.original.topic"]]++
			} else {
				n[rc.Topic]++
			}
		}
		return n
	}
	col.waitFor(time.Minute, "3 rows of each table", func() bool {
		n := ids()
		return n[dotted] >= 3 && n[underscored] >= 3 && n[orders] >= 3
	})
	var inDLQ []string
	for _, rc := range col.recs {
		if rc.Topic != dlq {
			continue
		}
		inDLQ = append(inDLQ, rc.Headers["walrelay.original.topic"])
		if e := rc.Headers["walrelay.error"]; !strings.Contains(e, "collides") || !strings.Contains(e, "rule with `topic:`") {
			t.Errorf("walrelay.error of a dead-lettered row: %q, want the collision and the fix", e)
		}
	}
	// Whichever of a.b and a_b got its topic first keeps it; the other's rows
	// are dead-lettered. orders is never refused.
	if len(inDLQ) != 3 || inDLQ[0] == orders || inDLQ[0] != inDLQ[1] || inDLQ[1] != inDLQ[2] {
		t.Errorf("dead-letter topic holds rows of %v, want the 3 rows of one of the colliding tables", inDLQ)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		confirmed, _, err := slotLSNs(ctx, conn, cfg.Slot)
		if err == nil && confirmed >= end {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("slot %s confirmed %s (%v), want at least %s: the checkpoint did not pass the dead-lettered rows",
				cfg.Slot, confirmed, err, end)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lines := r.logLines("pipeline halted; restarting from the checkpoint"); len(lines) != 0 {
		t.Errorf("the pipeline halted %d time(s): %v", len(lines), lines)
	}
}
