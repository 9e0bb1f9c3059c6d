package e2e

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// txEvent is one published event of a transaction: its data collection
// (schema.table, or a message's prefix) and its transaction block.
type txEvent struct {
	collection string
	content    string // a message's content
	totalOrder int64
	collOrder  int64
}

// TestTransactionMetadataMessages: a transactional logical decoding message
// is an event of its transaction, as Debezium counts it. In a transaction
// with two row changes and a message, END's event_count is 3, the three
// events' total_order are 1..3 and data_collections counts the message
// under its prefix; a transaction holding only a message gets a BEGIN and
// an END with event_count 1; a non-transactional message has no
// transaction and gets neither. For every transaction, END's event_count
// is the number of events carrying its id and its data_collections their
// count per collection, in order of first event.
func TestTransactionMetadataMessages(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, txMetaDDL+";"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.tm_a", "public.tm_b", markerTable)
	cfg.set("transaction_metadata", true)
	startRelay(t, cfg)
	col := newCollector(t, brokers, append(cfg.topics(), cfg.TopicPrefix+".message")...)
	meta := collectTxMeta(t, brokers, cfg.TopicPrefix+".transaction", func(kr *kgo.Record) (txMetaRec, error) {
		return txMetaRec{kr.Key, kr.Value}, nil
	})

	mustExec(t, conn, `BEGIN; INSERT INTO public.tm_a VALUES (1, 0);
		SELECT pg_logical_emit_message(true, 'audit', 'in tx');
		INSERT INTO public.tm_b VALUES (1); COMMIT`)
	mustExec(t, conn, `SELECT pg_logical_emit_message(true, 'audit', 'alone')`)
	mustExec(t, conn, `SELECT pg_logical_emit_message(false, 'audit', 'not transactional')`)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	meta.col.readToEnd(30 * time.Second)

	events := map[string][]txEvent{} // by transaction id
	txOf := map[string]string{}      // message content -> transaction id
	for _, r := range col.recs {
		if r.Tombstone {
			continue
		}
		ev, id := eventOf(t, r)
		if ev.content != "" {
			txOf[ev.content] = id
		}
		if id != "" {
			events[id] = append(events[id], ev)
		}
	}
	if id, ok := txOf["not transactional"]; !ok || id != "" {
		t.Errorf("non-transactional message: published %v, transaction %q; want published with no transaction", ok, id)
	}
	inTx, alone := txOf["in tx"], txOf["alone"]
	if inTx == "" || alone == "" {
		t.Fatalf("transaction ids of the messages: %q (in a transaction), %q (alone)", inTx, alone)
	}
	if n := len(events[inTx]); n != 3 {
		t.Errorf("transaction %s has %d events, want 3 (two rows and the message)", inTx, n)
	}
	byID := txMetaByID(t, meta.recs)
	for id, evs := range events {
		checkTxEnd(t, id, evs, byID[id])
	}
	for id := range byID {
		if _, ok := events[id]; !ok {
			t.Errorf("transaction metadata for %s, which published no event", id)
		}
	}
	for _, w := range []struct {
		id     string
		count  int64
		order  []string
		counts []int64
	}{{inTx, 3, []string{"public.tm_a", "audit", "public.tm_b"}, []int64{1, 1, 1}}, {alone, 1, []string{"audit"}, []int64{1}}} {
		if rs := byID[w.id]; len(rs) == 2 { // checkTxEnd reported any other number
			checkTxMetaRec(t, rs[1], "END", w.id, w.count, w.order, w.counts)
		}
	}
}

// eventOf returns r's event and transaction id ("" when it has none).
func eventOf(t *testing.T, r *rec) (txEvent, string) {
	t.Helper()
	ev := txEvent{collection: r.Env.Source.Schema + "." + r.Env.Source.Table}
	if r.Env.Op == "m" {
		var v struct {
			Message struct {
				Prefix  string `json:"prefix"`
				Content []byte `json:"content"`
			} `json:"message"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("message record %s@%d: %v", r.Topic, r.Offset, err)
		}
		ev.collection, ev.content = v.Message.Prefix, string(v.Message.Content)
	}
	if r.Env.Transaction == nil {
		return ev, ""
	}
	ev.totalOrder, ev.collOrder = r.Env.Transaction.TotalOrder, r.Env.Transaction.DataCollectionOrder
	return ev, r.Env.Transaction.ID
}

// txMetaByID groups transaction metadata records by their key's id.
func txMetaByID(t *testing.T, meta []txMetaRec) map[string][]txMetaRec {
	t.Helper()
	byID := map[string][]txMetaRec{}
	for _, r := range meta {
		var key struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.key, &key); err != nil {
			t.Fatalf("record key %s: %v", r.key, err)
		}
		byID[key.ID] = append(byID[key.ID], r)
	}
	return byID
}

// checkTxEnd checks that transaction id has a BEGIN and an END and that END
// describes evs, its published events: event_count is their number, their
// total_order values are 1..event_count, and data_collections holds each
// collection's count, in order of first event, matching the events'
// data_collection_order.
func checkTxEnd(t *testing.T, id string, evs []txEvent, meta []txMetaRec) {
	t.Helper()
	if len(meta) != 2 {
		t.Errorf("transaction %s (%d events): %d metadata records, want BEGIN and END", id, len(evs), len(meta))
		return
	}
	slices.SortFunc(evs, func(a, b txEvent) int { return int(a.totalOrder - b.totalOrder) })
	var order []string
	counts := map[string]int64{}
	for i, ev := range evs {
		if ev.totalOrder != int64(i+1) {
			t.Errorf("transaction %s: total_order values %v, want 1..%d", id, evs, len(evs))
			break
		}
		if counts[ev.collection]++; counts[ev.collection] == 1 {
			order = append(order, ev.collection)
		}
		if ev.collOrder != counts[ev.collection] {
			t.Errorf("transaction %s: event %d of %s has data_collection_order %d, want %d",
				id, ev.totalOrder, ev.collection, ev.collOrder, counts[ev.collection])
		}
	}
	want := make([]int64, len(order))
	for i, c := range order {
		want[i] = counts[c]
	}
	checkTxMetaRec(t, meta[0], "BEGIN", id, 0, nil, nil)
	checkTxMetaRec(t, meta[1], "END", id, int64(len(evs)), order, want)
}
