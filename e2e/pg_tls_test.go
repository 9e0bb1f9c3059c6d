package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"
)

// tlsDSN returns dsn with sslmode=verify-full against the server
// certificate in WALRELAY_TEST_PG_ROOTCERT (written by .ci/pg.sh), skipping
// the test when it is unset.
func tlsDSN(t *testing.T, dsn string) string {
	t.Helper()
	root := os.Getenv("WALRELAY_TEST_PG_ROOTCERT")
	if root == "" {
		t.Skip("WALRELAY_TEST_PG_ROOTCERT is not set: no PostgreSQL with TLS to test against")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("test DSN %q: %v", dsn, err)
	}
	q := u.Query()
	q.Set("sslmode", "verify-full")
	q.Set("sslrootcert", root)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPostgresTLS: walrelay streams over a TLS replication connection
// (sslmode=verify-full). Its reads end at a deadline every status
// interval (here 100 ms) while the stream is idle, and a TLS connection
// must survive that: rows written before and after three idle seconds all
// arrive with their values, and the walsender's connection is encrypted.
func TestPostgresTLS(t *testing.T) {
	t.Parallel()
	plain, brokers, conn := newTestDB(t, `CREATE TABLE public.tls_items (id int PRIMARY KEY, label text NOT NULL)`)
	cfg := newRelayConfig(t, tlsDSN(t, plain), brokers, "public.tls_items")
	cfg.set("postgres.status_interval", "100ms")
	col := newCollector(t, brokers, cfg.topic("public.tls_items"))
	r := spawnRelay(t, cfg)
	r.waitLog("streaming", 60*time.Second)

	insert := func(from, to int) {
		for i := from; i <= to; i++ {
			mustExec(t, conn, `INSERT INTO public.tls_items VALUES ($1, $2)`, i, fmt.Sprintf("item-%d", i))
		}
	}
	insert(1, 20)
	col.waitFor(60*time.Second, "20 records", func() bool { return len(col.recs) >= 20 })
	time.Sleep(3 * time.Second) // about 30 read deadlines on an idle TLS stream
	insert(21, 40)
	col.waitFor(60*time.Second, "40 records", func() bool { return len(col.recs) >= 40 })

	labels := map[string]any{} // "id=N" -> label; records of three partitions interleave
	for _, rc := range col.recs {
		if rc.Env == nil || rc.Env.Op != "c" {
			t.Fatalf("record %s: %+v, want an insert", rc.ID, rc.Env)
		}
		labels[rc.Key] = rc.Env.After["label"]
	}
	for i := 1; i <= 40; i++ {
		if got, want := labels[fmt.Sprintf("id=%d", i)], fmt.Sprintf("item-%d", i); got != want {
			t.Errorf("row %d: label %v, want %s", i, got, want)
		}
	}
	if len(col.recs) != 40 {
		t.Errorf("%d records, want 40", len(col.recs))
	}
	var ssl bool
	err := conn.QueryRow(context.Background(), `SELECT s.ssl FROM pg_stat_ssl s
		JOIN pg_replication_slots r ON r.active_pid = s.pid WHERE r.slot_name = $1`, cfg.Slot).Scan(&ssl)
	if err != nil || !ssl {
		t.Errorf("walsender of slot %s: ssl %v, %v; want an encrypted connection", cfg.Slot, ssl, err)
	}
	if code, _ := r.term(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}
