package e2e

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const pubDDL = `
CREATE TABLE a (id int PRIMARY KEY);
CREATE TABLE b (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY);
` + markerDDL

const pubRules = `
rules:
  - tables: [public.a, public.b, public.e2e_marker]
`

// TestFilterUnmanagedPublication: with publication.manage false the relay
// uses the publication as it is (it holds a but not b): it warns that b's
// changes will not arrive, leaves the publication alone, and publishes a's
// changes only (c is in neither).
func TestFilterUnmanagedPublication(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, pubDDL+"CREATE PUBLICATION walrelay FOR TABLE a, e2e_marker;")
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, pubRules)
	cfg.set("publication.manage", false)
	r := startRelay(t, cfg)
	warn := r.waitLog("the rules capture tables the unmanaged publication does not hold; their changes will not arrive", 10*time.Second)
	if m, _ := warn["missing"].([]any); len(m) != 1 || m[0] != "public.b" {
		t.Errorf("warning names %v as missing, want [public.b]", warn["missing"])
	}
	mustExec(t, conn, "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO c VALUES (1)")
	checkOnlyA(t, cfg, conn, brokers)
}

// TestFilterReplacesAllTablesPublication: a managed publication that is FOR
// ALL TABLES (as walrelay creates it without rules) is replaced by one that
// holds exactly the captured tables.
func TestFilterReplacesAllTablesPublication(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, pubDDL+"CREATE PUBLICATION walrelay FOR ALL TABLES;")
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, strings.Replace(pubRules, "public.b, ", "", 1))
	r := startRelay(t, cfg)
	if f := r.findLog("publication tables set from the rules"); f == nil || f["was_all_tables"] != true {
		t.Errorf(`"publication tables set from the rules" line %v, want was_all_tables true`, f)
	}
	if got := publicationTables(t, conn, cfg.Publication); strings.Join(got, ",") != "public.a,public.e2e_marker" {
		t.Fatalf("publication holds %v, want public.a and public.e2e_marker", got)
	}
	mustExec(t, conn, "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO c VALUES (1)")
	checkOnlyA(t, cfg, conn, brokers)
}

// checkOnlyA waits for catch-up and checks that a's insert is the only
// event besides the markers.
func checkOnlyA(t *testing.T, cfg *relayConfig, conn *pgx.Conn, brokers []string) {
	t.Helper()
	if got := eventsOf(t, cfg, conn, brokers, "public.a"); strings.Join(got, ",") != "c public.a id=1" {
		t.Errorf("events %v, want only the insert into public.a", got)
	}
	if got := publicationTables(t, conn, cfg.Publication); strings.Join(got, ",") != "public.a,public.e2e_marker" {
		t.Errorf("publication holds %v after the run, want it unchanged", got)
	}
}

// TestFilterNewTableUnderAllTablesPublication: with publication.manage false
// and a publication FOR ALL TABLES (README's way to capture tables created
// later from their first row), rows written to a glob-matching table in
// the transaction that creates it arrive; a table the rules do not match
// publishes nothing.
func TestFilterNewTableUnderAllTablesPublication(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL+"CREATE PUBLICATION walrelay FOR ALL TABLES;")
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, "rules:\n  - tables: [public.new_*, public.e2e_marker]\n")
	cfg.set("publication.manage", false)
	startRelay(t, cfg)
	mustExec(t, conn, `BEGIN; CREATE TABLE new_orders (id int PRIMARY KEY); INSERT INTO new_orders VALUES (1), (2);
		CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (1); COMMIT`)
	mustExec(t, conn, "INSERT INTO new_orders VALUES (3)")
	got := eventsOf(t, cfg, conn, brokers, "public.new_orders")
	sort.Strings(got) // one row per key: partitions interleave
	if want := "c public.new_orders id=1,c public.new_orders id=2,c public.new_orders id=3"; strings.Join(got, ",") != want {
		t.Errorf("events %v, want %s", got, want)
	}
}

// eventsOf waits for catch-up and returns the events of table, described
// (describeFiltered), after checking that no topic but table's and the
// markers' holds any.
func eventsOf(t *testing.T, cfg *relayConfig, conn *pgx.Conn, brokers []string, table string) []string {
	t.Helper()
	topics := []string{cfg.topic(table), cfg.topic(markerTable)}
	col := newCollector(t, brokers, topics...)
	catchUp(t, cfg, conn, col, col, time.Minute)
	var got []string
	for _, r := range col.recs {
		if r.Topic != cfg.topic(markerTable) {
			got = append(got, describeFiltered(r))
		}
	}
	noOtherTopics(t, col, cfg.TopicPrefix, topics)
	return got
}
