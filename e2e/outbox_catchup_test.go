package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

const outboxJoinRules = `
rules:
  - tables: [public.e2e_marker]
  - tables: ["public.obxj_*"]
    outbox: {id: id, key: agg, topic: "PREFIX.obxj.${agg}", payload: payload}
`

// TestOutboxJoinsCaptureSet: an outbox table that a glob rule picks up
// while walrelay streams. The rows written before the publication gained
// it cannot be published (walrelay cannot decode WAL of a table outside
// the publication, and an outbox table's snapshot publishes no events):
// walrelay warns with the fix, its catch-up logs rows_read 4 and
// rows_published 0 (audit: it claimed rows_published for rows it never
// published), and rows inserted afterwards are published. An UPDATE of an
// outbox row is logged once per table.
func TestOutboxJoinsCaptureSet(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, outboxJoinRules)
	cfg.set("publication.poll_interval", "500ms")
	r := startRelay(t, cfg)
	waitPublication(t, conn, cfg.Publication, []string{"public.e2e_marker"}, 10*time.Second)

	mustExec(t, conn, `BEGIN;
		CREATE TABLE obxj_late (id bigint PRIMARY KEY, agg text, payload text);
		INSERT INTO obxj_late SELECT i, 'a', 'before ' || i FROM generate_series(1, 4) i;
		COMMIT`)
	waitPublication(t, conn, cfg.Publication, []string{"public.e2e_marker", "public.obxj_late"}, 20*time.Second)
	warn := r.waitLogCount("outbox tables joined the capture set: events written to them before they joined the publication are not published", 1, 30*time.Second)
	if fmt.Sprint(warn["tables"]) != "[public.obxj_late]" || warn["level"] != "warn" || warn["fix"] == nil {
		t.Errorf("warning %v, want level warn, tables [public.obxj_late] and a fix", warn)
	}
	read := r.waitLogCount("incremental snapshot: table read", 1, 60*time.Second)
	if read["table"] != "public.obxj_late" || read["rows_read"] != float64(4) || read["rows_published"] != float64(0) {
		t.Errorf("catch-up logged %v, want table public.obxj_late, rows_read 4, rows_published 0", read)
	}
	r.waitLogCount("catch-up: an outbox rule's snapshot reads publish no events", 1, 5*time.Second)

	for i := 5; i <= 7; i++ {
		mustExec(t, conn, fmt.Sprintf("INSERT INTO obxj_late VALUES (%d, 'a', 'after %d')", i, i))
	}
	mustExec(t, conn, "UPDATE obxj_late SET payload = 'changed' WHERE id >= 5")
	p := cfg.TopicPrefix
	raw := newCollector(t, brokers, p+".obxj.a")
	got := rawRecords(raw)
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	catchUp(t, cfg, conn, mcol, raw, 2*time.Minute)
	var values []string
	for _, kr := range *got {
		values = append(values, string(kr.Value))
	}
	if want := []string{"after 5", "after 6", "after 7"}; !slices.Equal(values, want) {
		t.Errorf("outbox topic holds %q, want %q (the rows written after the table joined)", values, want)
	}
	if n := len(r.logLines("outbox: an UPDATE of an outbox row publishes nothing")); n != 1 {
		t.Errorf("the UPDATE of 3 outbox rows was logged %d times, want once", n)
	}
}

const outboxBlockingRules = `
rules:
  - tables: [public.e2e_marker]
  - tables: [public.obxb]
    outbox: {id: id, key: agg, topic: "PREFIX.obxb.${agg}", payload: payload}
`

// TestOutboxBlockingCatchupKeepsInserts: with snapshot.catchup: blocking,
// `walrelay snapshot` of an outbox table must not leave out the inserts
// committed before the catch-up's boundary: its snapshot publishes no
// outbox events, so it cannot stand for them (audit: live outbox events
// lost under load). walrelay is killed while the signal's catch-up reads
// the table (its boundary not stored yet), the inserts commit, and the
// next start takes the catch-up again, with a boundary after them.
func TestOutboxBlockingCatchupKeepsInserts(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE obxb (id bigint PRIMARY KEY, agg text, payload text);
		INSERT INTO obxb SELECT i, 'old', 'old' FROM generate_series(1, 400000) i;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, outboxBlockingRules)
	cfg.set("snapshot.catchup", "blocking")
	r := startRelay(t, cfg)
	p := cfg.TopicPrefix
	raw := newCollector(t, brokers, p+".obxb.a")
	got := rawRecords(raw)
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	catchUp(t, cfg, conn, mcol, raw, 2*time.Minute)

	out, errOut, code := runWalrelay(t, 30*time.Second, "snapshot", "--config", cfg.path, "public.obxb")
	if code != 0 {
		t.Fatalf("walrelay snapshot: exit %d\n%s%s", code, out, errOut)
	}
	if st := r.waitLogCount("snapshot started", 2, time.Minute); st["reason"] != "snapshot signal" {
		t.Fatalf("snapshot started for %v, want the signal's blocking catch-up", st["reason"])
	}
	r.kill()
	if n := len(r.logLines("snapshot completed")); n != 1 {
		t.Skipf("the catch-up completed before the kill (%d snapshots completed): its boundary is before the inserts", n)
	}
	for i := 2; i <= 6; i++ {
		mustExec(t, conn, fmt.Sprintf("INSERT INTO obxb VALUES (1000000 + %d, 'a', 'ev %d')", i, i))
	}
	r = startRelay(t, cfg)
	if st := r.waitLog("snapshot started", 2*time.Minute); st["reason"] != "snapshot signal" {
		t.Fatalf("second start: snapshot started for %v, want the signal's catch-up taken again", st["reason"])
	}
	catchUp(t, cfg, conn, mcol, raw, 2*time.Minute)
	var values []string
	for _, kr := range *got {
		values = append(values, string(kr.Value))
	}
	if want := []string{"ev 2", "ev 3", "ev 4", "ev 5", "ev 6"}; !slices.Equal(values, want) {
		t.Errorf("outbox topic holds %q, want %q: the inserts committed before the catch-up's boundary", values, want)
	}
}
