package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestKeyChangingUpdate: an UPDATE that changes the primary key is published
// as Debezium does, a delete of the old key (with its tombstone) and a create
// of the new key, so a compacted topic does not keep the old key alive; the
// delete and its tombstone name the new key in __debezium.newkey, the create
// the old key in __debezium.oldkey.
func TestKeyChangingUpdate(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE keyed (id int PRIMARY KEY, v text NOT NULL);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.keyed", markerTable)
	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO keyed VALUES (1, 'a')")
	mustExec(t, conn, "UPDATE keyed SET id = 2, v = 'b' WHERE id = 1")
	mustExec(t, conn, "UPDATE keyed SET v = 'c' WHERE id = 2")

	col := newCollector(t, brokers, cfg.topic("public.keyed"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	// Kafka orders records per key (partition), not across keys: compare
	// each key's sequence.
	got := map[string][]string{}
	var update *rec
	for _, r := range col.recs {
		if r.Topic != cfg.topic("public.keyed") {
			continue
		}
		switch {
		case r.Tombstone:
			got[r.Key] = append(got[r.Key], "tombstone"+keyHeader(t, r))
		case r.KeyChangeCreate:
			got[r.Key] = append(got[r.Key], fmt.Sprintf("%s -C v=%v%s", r.Env.Op, r.Env.After["v"], keyHeader(t, r)))
			update = r
		default:
			got[r.Key] = append(got[r.Key], fmt.Sprintf("%s v=%v%s", r.Env.Op, field(r), keyHeader(t, r)))
		}
	}
	want := map[string][]string{
		"id=1": {"c v=a", `d v=<nil> newkey={"id":2}`, `tombstone newkey={"id":2}`},
		"id=2": {`c -C v=b oldkey={"id":1}`, "u v=c"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records per key:\n got %q\nwant %q", got, want)
	}
	if update.Env.Before != nil {
		t.Errorf("the create half has a before image: %v", update.Env.Before)
	}
}

// keyHeader describes r's Debezium key-change header (" newkey=<payload>"
// or " oldkey=<payload>"), "" when it has none; it fails the test when the
// header is not {"schema": the Key struct, "payload": ...}.
func keyHeader(t *testing.T, r *rec) string {
	t.Helper()
	out := ""
	for name, h := range map[string]string{"newkey": "__debezium.newkey", "oldkey": "__debezium.oldkey"} {
		v, ok := r.Headers[h]
		if !ok {
			continue
		}
		var hv struct {
			Schema struct {
				Type, Name string
			}
			Payload json.RawMessage
		}
		if err := json.Unmarshal([]byte(v), &hv); err != nil || hv.Schema.Type != "struct" || !strings.HasSuffix(hv.Schema.Name, ".public.keyed.Key") {
			t.Errorf("%s header of %s: %s (%v)", h, r.ID, v, err)
		}
		out += " " + name + "=" + string(hv.Payload)
	}
	return out
}

// field is after.v, or before.v for deletes.
func field(r *rec) any {
	if r.Env.Op == "d" {
		return r.Env.Before["v"]
	}
	return r.Env.After["v"]
}

// TestKeyChangeTransactionOrder: in one transaction, a key change is two
// events of the transaction and of its table, as Debezium numbers them:
// the delete has total_order N, the create N+1, and every later event of
// the transaction (a message included) counts on from there; another
// table's data_collection_order is not moved.
func TestKeyChangeTransactionOrder(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE keyed (id int PRIMARY KEY, v text NOT NULL);
		CREATE TABLE other (id int PRIMARY KEY);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.keyed", "public.other", markerTable)
	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO keyed VALUES (1, 'a'), (5, 'x')")
	mustExec(t, conn, `BEGIN;
		INSERT INTO other VALUES (1);
		UPDATE keyed SET id = 2 WHERE id = 1;
		UPDATE keyed SET v = 'y' WHERE id = 5;
		INSERT INTO other VALUES (2);
		SELECT pg_logical_emit_message(true, 'order', 'm');
		COMMIT`)

	col := newCollector(t, brokers, append(cfg.topics(), cfg.topic("message"))...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	got := map[string]string{}
	for _, r := range col.recs {
		if r.Tombstone || r.Env == nil || r.Env.Transaction == nil || r.Env.Op == "r" {
			continue
		}
		what := r.Topic[len(cfg.TopicPrefix)+1:] + " " + r.Env.Op + " " + r.Key
		got[what] = fmt.Sprintf("%d/%d", r.Env.Transaction.TotalOrder, r.Env.Transaction.DataCollectionOrder)
	}
	want := map[string]string{
		"public.other c id=1": "1/1",
		"public.keyed d id=1": "2/1",
		"public.keyed c id=2": "3/2",
		"public.keyed u id=5": "4/3",
		"public.other c id=2": "5/2",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: total_order/data_collection_order %q, want %q", k, got[k], w)
		}
	}
	var msgOrder int64
	for _, r := range col.recs {
		if r.Env != nil && r.Env.Op == "m" && r.Env.Transaction != nil {
			msgOrder = r.Env.Transaction.TotalOrder
		}
	}
	if msgOrder != 6 {
		t.Errorf("the message's total_order is %d, want 6", msgOrder)
	}
}
