package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/twmb/franz-go/pkg/kgo"
)

const outboxDDL = `
CREATE TABLE shop_orders (id int PRIMARY KEY, status text NOT NULL);
CREATE TABLE outbox (id uuid PRIMARY KEY, aggregate_type text NOT NULL, aggregate_id text NOT NULL,
	event_type text NOT NULL, payload json NOT NULL);
INSERT INTO shop_orders VALUES (42, 'new');
` + markerDDL

const outboxRulesE2E = `
rules:
  - tables: [public.e2e_marker]
  - tables: [public.outbox]
    outbox: {id: id, key: aggregate_id, topic: "PREFIX.outbox.${aggregate_type}", payload: payload, type: event_type}
messages:
  - prefix: app_events
    topic: PREFIX.events
    type: com.example.app
    content_type: application/json
`

// TestFilterOutbox: an application transaction that updates a business
// table, inserts an outbox row and deletes it again produces exactly one
// record, routed by the row, with the payload byte for byte; the same
// through pg_logical_emit_message (no outbox table at all); rolled-back
// transactions and non-transactional messages produce nothing, and the
// business table (named by no rule) is not even in the publication.
func TestFilterOutbox(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, outboxDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, outboxRulesE2E)
	startRelay(t, cfg)
	waitPublication(t, conn, cfg.Publication, []string{"public.e2e_marker", "public.outbox"}, 10*time.Second)

	// Spaces and key order are the application's: a json column keeps them.
	const payload = `{"orderId": 42,  "status":"paid", "lines": [ {"sku": "A-1", "qty": 2} ]}`
	const eventID = "6f1c0b8e-5f1e-4c1a-9a55-1d2e3f4a5b6c"
	mustExec(t, conn, `BEGIN;
		UPDATE shop_orders SET status = 'paid' WHERE id = 42;
		INSERT INTO outbox VALUES ('`+eventID+`', 'Order', '42', 'OrderPaid', '`+payload+`');
		DELETE FROM outbox WHERE id = '`+eventID+`';
		COMMIT`)
	const message = `{"orderId": 42, "event": "shipped"}`
	var msgLSN string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE shop_orders SET status = 'shipped' WHERE id = 42"); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SELECT pg_logical_emit_message(true, 'app_events', $1::text)::text", message).Scan(&msgLSN); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, `BEGIN;
		INSERT INTO outbox VALUES ('00000000-0000-4000-8000-000000000001', 'Order', '43', 'OrderPaid', '{}');
		SELECT pg_logical_emit_message(true, 'app_events', 'rolled back');
		ROLLBACK`)
	mustExec(t, conn, "SELECT pg_logical_emit_message(false, 'app_events', 'not transactional')")

	p := cfg.TopicPrefix
	raw := newCollector(t, brokers, p+".outbox.Order", p+".events")
	got := rawRecords(raw)
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	catchUp(t, cfg, conn, mcol, raw, 2*time.Minute)

	if len(*got) != 2 {
		t.Fatalf("%d records on the outbox and events topics, want 2: %v", len(*got), describeRaw(*got))
	}
	ob, ev := (*got)[0], (*got)[1]
	if ob.Topic != p+".outbox.Order" {
		ob, ev = ev, ob
	}
	h := headers(ob)
	if ob.Topic != p+".outbox.Order" || string(ob.Key) != "42" || string(ob.Value) != payload ||
		h["ce_id"] != eventID || h["ce_type"] != "OrderPaid" || h["content-type"] != "application/json" ||
		h["ce_specversion"] != "1.0" || !strings.HasPrefix(h["ce_source"], "/walrelay/") || h["ce_time"] == "" {
		t.Errorf("outbox record %s key %q value %q headers %v", ob.Topic, ob.Key, ob.Value, h)
	}
	h = headers(ev)
	if ev.Topic != p+".events" || string(ev.Key) != "app_events" || string(ev.Value) != message ||
		h["ce_type"] != "com.example.app" || h["content-type"] != "application/json" {
		t.Errorf("message record %s key %q value %q headers %v", ev.Topic, ev.Key, ev.Value, h)
	}
	// ce_id is the event ID: the transaction's commit LSN and the ordinal.
	// pg_logical_emit_message returns the end of the message's WAL record;
	// the commit record starts there or later.
	commit, _, err := parseEventID(h["ce_id"])
	if lsn, perr := pglogrepl.ParseLSN(msgLSN); err != nil || perr != nil || commit < lsn {
		t.Errorf("message ce_id %s (%v): want a commit LSN at or after the message's end %s", h["ce_id"], err, msgLSN)
	}
	noOtherTopics(t, raw, p, []string{p + ".outbox.Order", p + ".events", cfg.topic(markerTable)})
	if tables := publicationTables(t, conn, cfg.Publication); strings.Join(tables, ",") != "public.e2e_marker,public.outbox" {
		t.Errorf("publication holds %v", tables)
	}
}

func describeRaw(rs []*kgo.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Topic + " " + string(r.Key) + " " + string(r.Value)
	}
	return out
}
