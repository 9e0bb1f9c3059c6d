package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

const filterDDL = `
CREATE SCHEMA sales;
CREATE SCHEMA archive;
CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, status text NOT NULL, notes text, card text);
ALTER TABLE orders REPLICA IDENTITY FULL;
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text, password_hash text);
CREATE TABLE sales.eu (id int PRIMARY KEY, total int NOT NULL);
CREATE TABLE sales.us (id int PRIMARY KEY, total int NOT NULL);
CREATE TABLE audit_log (id serial PRIMARY KEY, msg text);
CREATE TABLE archive.orders_2024 (id int PRIMARY KEY);
CREATE TABLE archive.orders_old (id int PRIMARY KEY);
` + markerDDL

const filterRules = `
default: drop
rules:
  - tables: [public.e2e_marker]
  - tables: [public.orders]
    where: "row.amount >= 100"
    columns: {exclude: [notes], mask: [card]}
    topic: PREFIX.big_orders
  - tables: [public.orders]
    operations: [insert]
    topic: PREFIX.small_orders
  - tables: [public.customers]
    operations: [insert, update]
    columns: {exclude: [password_hash], mask: [email]}
  - tables: ["sales.*"]
    operations: [insert, update, delete, truncate]
    topic: PREFIX.sales_all
  - tables: ['re:archive\.orders_\d{4}']
    drop: true
  - tables: ["archive.*"]
`

// TestFilterRules: a rules file over eight tables (routing by content and
// operation, column exclusion and masking, globs, a regular expression, a
// drop rule, default drop). Exactly the expected events reach each topic,
// none for excluded tables, operations, rows or columns; the publication
// holds exactly the captured tables, and a table created later that matches
// a glob is added to it and captured.
func TestFilterRules(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, filterDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, filterRules)
	cfg.set("mask_salt", "e2e-salt")
	cfg.set("publication.poll_interval", "500ms")
	r := startRelay(t, cfg)
	waitPublication(t, conn, cfg.Publication, []string{"archive.orders_old", "public.customers", "public.e2e_marker",
		"public.orders", "sales.eu", "sales.us"}, 10*time.Second)

	for _, sql := range []string{
		"INSERT INTO orders VALUES (1, 150, 'new', 'note 1', '4111')",
		"INSERT INTO orders VALUES (2, 50, 'new', 'note 2', '4222')",
		"UPDATE orders SET status = 'paid' WHERE id = 1",
		"UPDATE orders SET status = 'paid' WHERE id = 2", // small, not an insert: no rule decides it
		"UPDATE orders SET amount = 500 WHERE id = 2",    // now big
		"DELETE FROM orders WHERE id = 1",                // where sees the old row (REPLICA IDENTITY FULL)
		"BEGIN; INSERT INTO orders VALUES (3, 999, 'x', 'n', 'c'); ROLLBACK",
		"INSERT INTO customers VALUES (1, 'jane@example.com', 'Jane', 'secret-hash')",
		"UPDATE customers SET name = 'J' WHERE id = 1",
		"DELETE FROM customers WHERE id = 1", // deletes not captured
		"INSERT INTO sales.eu VALUES (1, 10)",
		"UPDATE sales.eu SET total = 11 WHERE id = 1",
		"DELETE FROM sales.eu WHERE id = 1",
		"INSERT INTO sales.us VALUES (1, 20)",
		"TRUNCATE sales.us",
		"INSERT INTO audit_log (msg) VALUES ('not captured')",
		"INSERT INTO archive.orders_2024 VALUES (1)",
		"INSERT INTO archive.orders_old VALUES (1)",
		"CREATE TABLE sales.asia (id int PRIMARY KEY, total int NOT NULL)",
		"CREATE TABLE public.later (id int PRIMARY KEY)",
	} {
		mustExec(t, conn, sql)
	}
	// A new table is captured once the poller has added it to the publication;
	// walrelay then restarts its session to take the table's catch-up
	// snapshot (empty here), after which its inserts stream as creates.
	waitPublication(t, conn, cfg.Publication, []string{"archive.orders_old", "public.customers", "public.e2e_marker",
		"public.orders", "sales.asia", "sales.eu", "sales.us"}, 10*time.Second)
	r.waitLogCount("streaming", 2, time.Minute)
	r.waitLog("incremental snapshot completed", time.Minute)
	mustExec(t, conn, "INSERT INTO sales.asia VALUES (1, 30)")
	mustExec(t, conn, "INSERT INTO public.later VALUES (1)")

	p := cfg.TopicPrefix
	want := map[string][]string{
		p + ".big_orders":         {"c public.orders id=1", "u public.orders id=1", "u public.orders id=2", "d public.orders id=1", "tombstone id=1"},
		p + ".small_orders":       {"c public.orders id=2"},
		p + ".public.customers":   {"c public.customers id=1", "u public.customers id=1"},
		p + ".sales_all":          {"c sales.eu id=1", "u sales.eu id=1", "d sales.eu id=1", "tombstone id=1", "c sales.us id=1", "t sales.us null", "c sales.asia id=1"},
		p + ".archive.orders_old": {"c archive.orders_old id=1"},
	}
	topics := []string{cfg.topic(markerTable)}
	for tp := range want {
		topics = append(topics, tp)
	}
	col := newCollector(t, brokers, topics...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	got := byTopic(col.recs)
	for tp, w := range want {
		var ds []string
		for _, r := range got[tp] {
			ds = append(ds, describeFiltered(r))
		}
		if strings.Join(ds, " | ") != strings.Join(w, " | ") {
			t.Errorf("%s:\n got  %s\n want %s", tp, strings.Join(ds, " | "), strings.Join(w, " | "))
		}
	}
	noOtherTopics(t, col, cfg.TopicPrefix, topics)
	checkProjectedColumns(t, conn, got[p+".big_orders"], got[p+".public.customers"])
}

// describeFiltered renders a record as "op schema.table key".
func describeFiltered(r *rec) string {
	if r.Tombstone {
		return "tombstone " + r.Key
	}
	return r.Env.Op + " " + r.Env.Source.Schema + "." + r.Env.Source.Table + " " + r.Key
}

// checkProjectedColumns: excluded columns are absent from every image,
// masked ones carry PostgreSQL's sha256 of salt || value.
func checkProjectedColumns(t *testing.T, conn pgxQuerier, orders, customers []*rec) {
	t.Helper()
	hash := func(v string) string {
		var h string
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := conn.QueryRow(ctx, "SELECT encode(sha256(convert_to('e2e-salt' || $1, 'UTF8')), 'hex')", v).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	cards := map[string]string{"id=1": hash("4111"), "id=2": hash("4222")}
	for _, r := range orders {
		if r.Tombstone {
			continue
		}
		for _, img := range []map[string]any{r.Env.Before, r.Env.After} {
			if img == nil {
				continue
			}
			if _, ok := img["notes"]; ok || len(img) != 4 || img["card"] != cards[r.Key] {
				t.Errorf("orders %s %s image %v: want id, amount, status and card = %s (notes excluded)", r.Env.Op, r.Key, img, cards[r.Key])
			}
		}
	}
	for _, r := range customers {
		if a := r.Env.After; len(a) != 3 || a["email"] != hash("jane@example.com") || a["password_hash"] != nil {
			t.Errorf("customers %s after %v: want id, name and the masked email", r.Env.Op, a)
		}
	}
}
