package e2e

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestMetrics: with metrics.listen set, GET /metrics serves walrelay's
// Prometheus metrics while it runs: after an initial snapshot of 7 rows and
// 25 inserts, walrelay_events_total counts the 25 streamed events and
// walrelay_kafka_records_acked_total all 32 records, the snapshot gauges
// show the 7 rows done, the checkpoint and the server's WAL end are
// positions, walrelay_streaming is 1, and nothing is in flight once Kafka
// acknowledged everything.
func TestMetrics(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public.met (id int PRIMARY KEY);
		INSERT INTO public.met SELECT generate_series(101, 107)`) // the initial snapshot's 7 rows
	cfg := newRelayConfig(t, dsn, brokers, "public.met")
	addr := testenv.FreeAddr(t)
	cfg.set("metrics.listen", addr)
	r := startRelay(t, cfg)
	mustExec(t, conn, `INSERT INTO public.met SELECT generate_series(1, 25)`)

	var m map[string]float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		m = scrape(t, "http://"+addr+"/metrics")
		// events_total is counted once Send returns, which may be after
		// Kafka acknowledged: wait for both.
		if m["walrelay_kafka_records_acked_total"] >= 32 && m["walrelay_inflight_events"] == 0 &&
			m["walrelay_events_total"] >= 25 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, want := range map[string]float64{"walrelay_events_total": 25, "walrelay_kafka_records_acked_total": 32,
		"walrelay_streaming": 1, "walrelay_inflight_events": 0, "walrelay_restarts_total": 0,
		"walrelay_snapshot_running": 0, "walrelay_snapshot_rows_done": 7, "walrelay_snapshot_rows_total": 7} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if m["walrelay_checkpoint_lsn"] <= 0 || m["walrelay_server_wal_end_lsn"] < m["walrelay_checkpoint_lsn"] {
		t.Errorf("checkpoint_lsn %v, server_wal_end_lsn %v: want a position, the server's end at or past it",
			m["walrelay_checkpoint_lsn"], m["walrelay_server_wal_end_lsn"])
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	// Per table and operation, as the events on the topic: the snapshot's
	// reads, the inserts, and now a key-changing update (a delete and a
	// create) and a delete. Tombstones are not events.
	mustExec(t, conn, `UPDATE public.met SET id = 26 WHERE id = 25; DELETE FROM public.met WHERE id = 1`)
	events := func(op string) string { return `walrelay_table_events_total{op="` + op + `",table="public.met"}` }
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// The events are counted when sent, the lag once Kafka acknowledged them.
		m = scrape(t, "http://"+addr+"/metrics")
		if m[events("d")] == 2 && m[`walrelay_transaction_lag_seconds_count{stage="acked"}`] >= 2 || time.Now().After(deadline) {
			break
		}
	}
	for op, want := range map[string]float64{"r": 7, "c": 26, "d": 2} {
		if got := m[events(op)]; got != want {
			t.Errorf("%s = %v, want %v", events(op), got, want)
		}
	}
	for _, op := range []string{"u", "t"} {
		if _, ok := m[events(op)]; ok {
			t.Errorf("%s is shown, with no such event on the topic", events(op))
		}
	}
	if got := m["walrelay_events_total"]; got != 28 {
		t.Errorf("walrelay_events_total = %v after the key change and the delete, want 28 (25 + 2 + 1, no tombstones)", got)
	}
	checkTransactionLag(t, m)
	if code, _ := r.term(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// checkTransactionLag: the two transactions of TestMetrics (the inserts,
// then the update and delete) were measured at every stage of
// walrelay_transaction_lag_seconds, each within 30 s of its commit.
func checkTransactionLag(t *testing.T, m map[string]float64) {
	t.Helper()
	for _, stage := range []string{"sent", "received", "acked"} {
		count := m[`walrelay_transaction_lag_seconds_count{stage="`+stage+`"}`]
		within := m[`walrelay_transaction_lag_seconds_bucket{stage="`+stage+`",le="30"}`]
		if count < 2 || within != count {
			t.Errorf("walrelay_transaction_lag_seconds{stage=%q}: %v transactions, %v of them within 30 s; want at least 2, all",
				stage, count, within)
		}
	}
}

// scrape reads a Prometheus text exposition into name -> value; a metric
// with labels is named as exposed, e.g. `x_total{op="c",table="public.t"}`.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		name, val := line[:i], line[i+1:]
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	return out
}
