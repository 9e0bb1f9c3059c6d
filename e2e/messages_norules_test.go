package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestMessagesWithoutRules: without a rules file (postgres.tables only),
// every logical decoding message, whatever its prefix, transactional or
// not, is published as an op m event on <topic_prefix>.message, and
// walrelay_events_total counts each published event, the
// non-transactional message too, which no transaction's END counts
// (README, Filter rules and Metrics; audit: neither was said).
func TestMessagesWithoutRules(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE public.nr (id int PRIMARY KEY);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.nr", markerTable)
	addr := testenv.FreeAddr(t)
	cfg.set("metrics.listen", addr)
	startRelay(t, cfg)
	col := newCollector(t, brokers, append(cfg.topics(), cfg.TopicPrefix+".message")...)

	mustExec(t, conn, `SELECT pg_logical_emit_message(true, 'other_app', 'tx')`)
	mustExec(t, conn, `SELECT pg_logical_emit_message(false, 'nontx_app', 'not tx')`)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	var messages []string
	events := 0
	for _, r := range col.recs {
		if r.Tombstone {
			continue
		}
		events++
		if ev, _ := eventOf(t, r); r.Topic == cfg.TopicPrefix+".message" {
			messages = append(messages, ev.collection+":"+ev.content)
		}
	}
	slices.Sort(messages)
	if want := []string{"nontx_app:not tx", "other_app:tx"}; !slices.Equal(messages, want) {
		t.Errorf("on %s.message: %q, want %q", cfg.TopicPrefix, messages, want)
	}
	var got float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = scrape(t, "http://"+addr+"/metrics")["walrelay_events_total"]; got >= float64(events) {
			break
		}
	}
	if got != float64(events) {
		t.Errorf("walrelay_events_total = %v, want %d, the events published (the marker rows and both messages)", got, events)
	}
}
