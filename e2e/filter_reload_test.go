package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

const reloadRulesV1 = `
rules:
  - tables: [public.accounts, public.orders, public.items, public.e2e_marker]
`

const reloadRulesV2 = `
rules:
  - tables: [public.items]
    topic: PREFIX.routed_items
  - tables: [public.accounts, public.orders, public.items, public.e2e_marker]
`

const reloadRulesBroken = `
rules:
  - tables: [public.items]
    topc: PREFIX.routed_items
`

// TestFilterReloadWhileWriting: while two clients write, the relay gets
// SIGHUP three times: rules that route public.items to another topic, a
// broken file (rejected; the rules in force stay), and the first rules
// again. Each switch happens between two transactions, at the commit LSN the
// "rules reloaded" line names: every items event of a transaction before the
// first switch or from the second on is on the table's topic, every one in
// between on the routed topic. Taken together, the topics hold every
// committed change exactly once (no duplicate, nothing lost) in commit order
// per key.
func TestFilterReloadWhileWriting(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, wlDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, reloadRulesV1)
	r := startRelay(t, cfg)
	w := newWorkload(dsn)
	cl := w.run(2, 0)

	time.Sleep(1500 * time.Millisecond)
	useRules(t, cfg, reloadRulesV2)
	r.sighup()
	first := r.waitLogCount("rules reloaded", 1, 30*time.Second)
	time.Sleep(1500 * time.Millisecond)
	useRules(t, cfg, reloadRulesBroken)
	r.sighup()
	r.waitLogCount("SIGHUP: rules file not reloaded, the previous rules stay in force", 1, 30*time.Second)
	time.Sleep(1000 * time.Millisecond)
	useRules(t, cfg, reloadRulesV1)
	r.sighup()
	second := r.waitLogCount("rules reloaded", 2, 30*time.Second)
	time.Sleep(1000 * time.Millisecond)
	cl.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}

	routed := cfg.TopicPrefix + ".routed_items"
	items := cfg.topic("public.items")
	topics := append([]string{routed}, cfg.topic("public.accounts"), cfg.topic("public.orders"), items, cfg.topic(markerTable))
	col := newCollector(t, brokers, topics...)
	catchUp(t, cfg, conn, col, col, 3*time.Minute)

	x1, x2 := logLSN(t, first), logLSN(t, second)
	if x1 >= x2 {
		t.Fatalf("switch LSNs %s then %s", x1, x2)
	}
	var segments [3]int
	var itemRecs, others []*rec
	for _, rec := range col.recs {
		if rec.Topic != items && rec.Topic != routed {
			others = append(others, rec)
			continue
		}
		inV2 := rec.Commit >= x1 && rec.Commit < x2
		if inV2 != (rec.Topic == routed) {
			t.Errorf("items event %s (commit %s) on %s; the rules switched at %s and back at %s", rec.ID, rec.Commit, rec.Topic, x1, x2)
		}
		switch {
		case rec.Commit < x1:
			segments[0]++
		case rec.Commit < x2:
			segments[1]++
		default:
			segments[2]++
		}
		itemRecs = append(itemRecs, rec)
	}
	if segments[0] == 0 || segments[1] == 0 || segments[2] == 0 {
		t.Errorf("items events before, between and after the switches: %v; the test needs some in each", segments)
	}
	// Within each topic a key's events are in commit order; across the two
	// topics Kafka defines no order, and the segments above pin which topic
	// holds which commits. So check the items stream as a whole in commit order.
	inCommitOrderPerKey(t, itemRecs)
	sortByID(itemRecs)
	for _, rec := range itemRecs {
		rec.Topic = items
	}
	col.recs = append(others, itemRecs...)
	st := verifyWorkload(t, cfg, col, w)
	if st.dups != 0 {
		t.Errorf("%d duplicate events across the rule switches, want none", st.dups)
	}
	t.Logf("switches at %s and %s; items events per segment %v; %d changes; stream %+v", x1, x2, segments, w.ops.Load(), st)
	noOtherTopics(t, col, cfg.TopicPrefix, topics)
}

// logLSN reads the commit_lsn field of a log line.
func logLSN(t *testing.T, fields map[string]any) pglogrepl.LSN {
	t.Helper()
	lsn, err := pglogrepl.ParseLSN(fmt.Sprint(fields["commit_lsn"]))
	if err != nil {
		t.Fatalf("log line %v: commit_lsn: %v", fields, err)
	}
	return lsn
}

// inCommitOrderPerKey checks that, per topic and key, records were consumed
// in ce_id order.
func inCommitOrderPerKey(t *testing.T, recs []*rec) {
	t.Helper()
	last := map[[2]string]*rec{}
	bad := 0
	for _, r := range recs {
		k := [2]string{r.Topic, r.Key}
		if prev := last[k]; prev != nil && idAfter(prev, r) {
			if bad++; bad <= 10 {
				t.Errorf("%s key %s: %s consumed after %s", r.Topic, r.Key, r.ID, prev.ID)
			}
		}
		last[k] = r
	}
}
