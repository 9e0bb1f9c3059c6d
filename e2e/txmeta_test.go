package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// txMetaValue is a transaction metadata value as Debezium writes it.
type txMetaValue struct {
	Status          string `json:"status"`
	ID              string `json:"id"`
	EventCount      *int64 `json:"event_count"`
	DataCollections []struct {
		DataCollection string `json:"data_collection"`
		EventCount     int64  `json:"event_count"`
	} `json:"data_collections"`
	TsMs int64 `json:"ts_ms"`
}

// txMetaRec is a transaction metadata record's key and value as JSON
// (Avro records are decoded and printed as Debezium's JSON converter would).
type txMetaRec struct{ key, value []byte }

const txMetaDDL = `CREATE TABLE public.tm_a (id int PRIMARY KEY, v int);
	CREATE TABLE public.tm_b (id int PRIMARY KEY)`

// writeTxMetaScenario commits two transactions with changes (the first
// with a key change of tm_b between inserts) and a logical decoding
// message between them.
func writeTxMetaScenario(t *testing.T, dsn string) {
	conn := connect(t, dsn)
	mustExec(t, conn, `BEGIN; INSERT INTO public.tm_b VALUES (1); INSERT INTO public.tm_a VALUES (1, 0), (2, 0);
		UPDATE public.tm_b SET id = 2 WHERE id = 1; COMMIT`)
	mustExec(t, conn, `SELECT pg_logical_emit_message(true, 'tm', 'x')`)
	mustExec(t, conn, `UPDATE public.tm_a SET v = 1 WHERE id = 1`)
}

// TestTransactionMetadata: with transaction_metadata on, each streamed
// transaction with published changes gets a BEGIN and an END record on
// <prefix>.transaction, keyed by its id, which is the id in its change
// events' transaction block; END counts the events per table in order of
// first appearance (a key change is two). A transaction holding only a
// transactional logical decoding message gets them too, counting the
// message under its prefix, as in Debezium.
func TestTransactionMetadata(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, txMetaDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.tm_a", "public.tm_b")
	cfg.set("transaction_metadata", true)
	startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topics()...)
	meta := collectTxMeta(t, brokers, cfg.TopicPrefix+".transaction", func(kr *kgo.Record) (txMetaRec, error) {
		return txMetaRec{kr.Key, kr.Value}, nil
	})
	writeTxMetaScenario(t, dsn)
	col.waitFor(30*time.Second, "7 change records", func() bool { return len(col.recs) >= 7 })
	txOf := map[string]string{}
	for _, r := range col.recs {
		if r.Env != nil && r.Env.Transaction != nil {
			txOf[r.Topic+" "+r.Key] = r.Env.Transaction.ID
		}
	}
	checkTxMetaScenario(t, meta.wait(t), txOf[cfg.topic("public.tm_a")+" id=2"], txOf[cfg.topic("public.tm_a")+" id=1"])
}

// TestTransactionMetadataAvro: the same in Avro, with Debezium's schemas
// registered under <prefix>.transaction-key and -value.
func TestTransactionMetadataAvro(t *testing.T) {
	t.Parallel()
	dsn, brokers, _ := newTestDB(t, txMetaDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.tm_a", "public.tm_b")
	cfg.set("transaction_metadata", true)
	url := avroConfig(t, cfg)
	startRelay(t, cfg)
	ac := newAvroCollector(t, brokers, url, cfg.topics()...)
	dec := newAvroDecoder(url)
	meta := collectTxMeta(t, brokers, cfg.TopicPrefix+".transaction", func(kr *kgo.Record) (txMetaRec, error) {
		return avroTxMeta(dec, kr)
	})
	writeTxMetaScenario(t, dsn)
	ac.waitFor(30*time.Second, "7 change records", func() bool { return len(ac.avro) >= 7 })
	txOf := map[string]string{}
	for _, r := range ac.avro {
		if tx, ok := r.ValueMap["transaction"].(map[string]any); ok {
			txOf[r.Topic+" "+r.Key] = fmt.Sprint(tx["id"])
		}
	}
	checkTxMetaScenario(t, meta.wait(t), txOf[cfg.topic("public.tm_a")+" id=2"], txOf[cfg.topic("public.tm_a")+" id=1"])
	for _, subject := range []string{cfg.TopicPrefix + ".transaction-key", cfg.TopicPrefix + ".transaction-value"} {
		if ids := subjectVersionIDs(t, url, subject); len(ids) != 1 {
			t.Errorf("subject %s has %d versions, want 1", subject, len(ids))
		}
	}
}

// avroTxMeta decodes an Avro transaction metadata record into Debezium's JSON.
func avroTxMeta(dec *avroDecoder, kr *kgo.Record) (txMetaRec, error) {
	_, ks, key, err := dec.decode(kr.Key)
	if err != nil {
		return txMetaRec{}, fmt.Errorf("key: %w", err)
	}
	_, vs, value, err := dec.decode(kr.Value)
	if err != nil {
		return txMetaRec{}, fmt.Errorf("value: %w", err)
	}
	k, err := json.Marshal(asDebeziumJSON(ks, key))
	if err != nil {
		return txMetaRec{}, err
	}
	v, err := json.Marshal(asDebeziumJSON(vs, value))
	return txMetaRec{k, v}, err
}

// txMetaCollector gathers the records of the transaction metadata topic.
type txMetaCollector struct {
	col  *collector
	recs []txMetaRec
}

func collectTxMeta(t *testing.T, brokers []string, topic string, conv func(*kgo.Record) (txMetaRec, error)) *txMetaCollector {
	c := &txMetaCollector{col: newCollector(t, brokers, topic)}
	c.col.handle = func(kr *kgo.Record) {
		r, err := conv(kr)
		if err != nil {
			t.Errorf("transaction metadata record %s@%d: %v", kr.Topic, kr.Offset, err)
			return
		}
		c.recs = append(c.recs, r)
	}
	return c
}

// wait returns the records once six arrived and a second passed without more.
func (c *txMetaCollector) wait(t *testing.T) []txMetaRec {
	c.col.waitFor(30*time.Second, "6 transaction metadata records", func() bool { return len(c.recs) >= 6 })
	c.col.poll(time.Second)
	return c.recs
}

// checkTxMetaScenario checks the records of writeTxMetaScenario, whose two
// transactions with changes have the ids first and second (the message's
// transaction is the third id). The topic's partitions are
// read in any order, so the records are checked per transaction (one key,
// one partition): BEGIN, then END.
func checkTxMetaScenario(t *testing.T, meta []txMetaRec, first, second string) {
	t.Helper()
	if first == "" || second == "" || first == second {
		t.Fatalf("transaction ids of the change events: %q and %q", first, second)
	}
	type end struct {
		count  int64
		order  []string
		counts []int64
	}
	wants := map[string]end{first: {5, []string{"public.tm_b", "public.tm_a"}, []int64{3, 2}},
		second: {1, []string{"public.tm_a"}, []int64{1}}}
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
	if len(meta) != 6 || len(byID) != 3 {
		t.Fatalf("%d transaction metadata records for ids %v, want BEGIN and END of %s, %s and the logical message's transaction",
			len(meta), slices.Collect(maps.Keys(byID)), first, second)
	}
	for id := range byID {
		if id != first && id != second {
			wants[id] = end{1, []string{"tm"}, []int64{1}}
		}
	}
	for id, w := range wants {
		rs := byID[id]
		if len(rs) != 2 {
			t.Errorf("transaction %s: %d records, want BEGIN and END", id, len(rs))
			continue
		}
		checkTxMetaRec(t, rs[0], "BEGIN", id, 0, nil, nil)
		checkTxMetaRec(t, rs[1], "END", id, w.count, w.order, w.counts)
	}
}

// checkTxMetaRec checks one record's value: its status and id, a ts_ms, and
// END's counts (BEGIN has none).
func checkTxMetaRec(t *testing.T, r txMetaRec, status, id string, count int64, order []string, counts []int64) {
	t.Helper()
	var v txMetaValue
	if err := json.Unmarshal(r.value, &v); err != nil {
		t.Fatalf("%s record value %s: %v", status, r.value, err)
	}
	if v.Status != status || v.ID != id || v.TsMs == 0 {
		t.Errorf("record %s: want status %s, id %s, a ts_ms", r.value, status, id)
	}
	var gotOrder []string
	var gotCounts []int64
	for _, c := range v.DataCollections {
		gotOrder, gotCounts = append(gotOrder, c.DataCollection), append(gotCounts, c.EventCount)
	}
	switch {
	case status == "BEGIN" && (v.EventCount != nil || v.DataCollections != nil):
		t.Errorf("BEGIN record %s has counts", r.value)
	case status == "END" && (v.EventCount == nil || *v.EventCount != count ||
		!reflect.DeepEqual(gotOrder, order) || !reflect.DeepEqual(gotCounts, counts)):
		t.Errorf("END record %s: want event_count %d, data_collections %v with %v", r.value, count, order, counts)
	}
}
