package e2e

import (
	"testing"
	"time"
)

// TestLingerEndsWithTransaction: kafka.linger batches records while more
// are coming, but a transaction walrelay has nothing after is sent at
// once. With a linger of 60 s, a one-row transaction and then a
// three-row one (keys over three partitions) each reach Kafka within
// 10 s of their commit; before, each waited for the whole linger.
func TestLingerEndsWithTransaction(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public.lg (id int PRIMARY KEY)`)
	cfg := newRelayConfig(t, dsn, brokers, "public.lg")
	cfg.set("kafka.linger", "60s")
	startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topic("public.lg"))

	for _, step := range []struct {
		sql  string
		want int
	}{
		{`INSERT INTO public.lg VALUES (1)`, 1},
		{`INSERT INTO public.lg VALUES (2), (3), (4)`, 4},
	} {
		mustExec(t, conn, step.sql)
		committed := time.Now()
		col.waitFor(10*time.Second, step.sql+" in Kafka", func() bool { return len(col.recs) >= step.want })
		t.Logf("%s: in Kafka %s after its commit", step.sql, time.Since(committed).Round(time.Millisecond))
	}
	if len(col.recs) != 4 {
		t.Errorf("%d records, want 4", len(col.recs))
	}
}
