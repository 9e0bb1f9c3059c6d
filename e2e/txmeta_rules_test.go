package e2e

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTransactionMetadataAfterRules: total_order and data_collection_order
// number the events published after the rules, as END counts them. In one
// transaction, rows a where expression drops, an unrouted transactional
// message and a truncate whose rule does not name truncate take no
// position: the published events run 1..event_count, per collection
// 1..its count (audit auditx finding 2: orders 2 and 4 under an END with
// event_count 2, so a consumer waiting for total_order == event_count
// never completed the transaction).
func TestTransactionMetadataAfterRules(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE public.tr_f (id int PRIMARY KEY, v text);
		CREATE TABLE public.tr_t (id int PRIMARY KEY);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	cfg.Tables = []string{"public.tr_f", "public.tr_t", markerTable} // for topics(): the rules name them
	cfg.set("transaction_metadata", true)
	useRules(t, cfg, `default: drop
rules:
  - tables: [public.tr_f]
    where: "row.v != 'skip'"
  - tables: [public.tr_t]
    operations: [insert, update, delete, truncate]
  - tables: [`+markerTable+`]
`)
	startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topics()...)
	meta := collectTxMeta(t, brokers, cfg.TopicPrefix+".transaction", func(kr *kgo.Record) (txMetaRec, error) {
		return txMetaRec{kr.Key, kr.Value}, nil
	})

	mustExec(t, conn, `BEGIN;
		INSERT INTO public.tr_f VALUES (300, 'skip'), (301, 'keep'), (302, 'skip'), (303, 'keep');
		SELECT pg_logical_emit_message(true, 'otherprefix', 'x');
		INSERT INTO public.tr_t VALUES (1);
		TRUNCATE public.tr_t, public.tr_f;
		INSERT INTO public.tr_f VALUES (304, 'skip'), (305, 'keep');
		COMMIT`)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	meta.col.readToEnd(30 * time.Second)

	events := map[string][]txEvent{} // by transaction id
	var tx string
	for _, r := range col.recs {
		if r.Tombstone {
			continue
		}
		ev, id := eventOf(t, r)
		if id != "" && ev.collection != markerTable {
			events[id] = append(events[id], ev)
			tx = id
		}
	}
	if len(events) != 1 || len(events[tx]) != 5 {
		t.Fatalf("events by transaction %v, want one transaction with 5 (301, 303, tr_t's insert and truncate, 305)", events)
	}
	checkTxEnd(t, tx, events[tx], txMetaByID(t, meta.recs)[tx])
}
