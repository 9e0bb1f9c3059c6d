package e2e

import (
	"context"
	"testing"
	"time"
)

// TestToastPlaceholder: a text column holding more than 8 kB of
// incompressible text (concatenated md5s) is stored out of line; an UPDATE of
// another column leaves it unchanged, so Postgres does not send it. Under
// REPLICA IDENTITY DEFAULT the event's after.big is the placeholder
// "__debezium_unavailable_value" (not null, not the old value); under FULL
// the old tuple carries it and after.big (and before.big) is the value.
func TestToastPlaceholder(t *testing.T) {
	t.Parallel()
	const placeholder = "__debezium_unavailable_value"
	dsn, brokers, conn := newTestDB(t, `
		CREATE TABLE toast_default (id int PRIMARY KEY, small int NOT NULL, big text NOT NULL);
		CREATE TABLE toast_full (id int PRIMARY KEY, small int NOT NULL, big text NOT NULL);
		ALTER TABLE toast_full REPLICA IDENTITY FULL;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.toast_default", "public.toast_full", markerTable)
	startRelay(t, cfg)

	const bigSQL = "(SELECT string_agg(md5($1 || i::text), '') FROM generate_series(1, 400) i)"
	for _, tb := range []string{"toast_default", "toast_full"} {
		mustExec(t, conn, "INSERT INTO "+tb+" (id, small, big) VALUES (1, 1, "+bigSQL+")", "a")
		mustExec(t, conn, "UPDATE "+tb+" SET small = 2 WHERE id = 1")
		mustExec(t, conn, "UPDATE "+tb+" SET big = "+bigSQL+", small = 3 WHERE id = 1", "b")
		mustExec(t, conn, "UPDATE "+tb+" SET small = 4 WHERE id = 1")
	}
	var v1, v2 string
	var stored int
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.QueryRow(ctx, "SELECT "+bigSQL+", (SELECT pg_column_size(big) FROM toast_default)",
		"a").Scan(&v1, &stored); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT "+bigSQL, "b").Scan(&v2); err != nil {
		t.Fatal(err)
	}
	if len(v1) != 12800 || stored < 8192 {
		t.Fatalf("big is %d characters stored in %d bytes; the test needs > 8 kB stored out of line", len(v1), stored)
	}

	col := newCollector(t, brokers, cfg.topics()...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	want := map[string][]toastWant{
		"toast_default": {
			{op: "c", small: 1, big: v1},
			{op: "u", small: 2, big: placeholder},
			{op: "u", small: 3, big: v2},
			{op: "u", small: 4, big: placeholder},
		},
		"toast_full": {
			{op: "c", small: 1, big: v1},
			{op: "u", small: 2, big: v1, beforeBig: v1},
			{op: "u", small: 3, big: v2, beforeBig: v1},
			{op: "u", small: 4, big: v2, beforeBig: v2},
		},
	}
	checkToastEvents(t, cfg, col, want)
}

// checkToastEvents compares each table's events, in commit order, with want.
func checkToastEvents(t *testing.T, cfg *relayConfig, col *collector, want map[string][]toastWant) {
	t.Helper()
	for tb, ws := range want {
		var got []*rec
		for _, r := range col.recs {
			if r.Topic == cfg.topic("public."+tb) {
				got = append(got, r)
			}
		}
		got, _, _ = dedupe(got)
		sortByID(got) // commit order, even if the records went to different partitions
		for _, r := range got {
			if r.Key != "id=1" {
				t.Errorf("%s %s: key %s, want {\"id\":1} (the primary key)", tb, r.ID, abbrev(string(r.KeyRaw)))
			}
		}
		if len(got) != len(ws) {
			t.Errorf("%s: %d events, want %d", tb, len(got), len(ws))
			continue
		}
		for i, w := range ws {
			w.check(t, tb, got[i])
		}
	}
}

// toastWant is an expected event of TestToastPlaceholder; beforeBig "" means
// before must be null.
type toastWant struct {
	op        string
	small     int64
	big       string
	beforeBig string
}

func (w toastWant) check(t *testing.T, tb string, r *rec) {
	t.Helper()
	e := r.Env
	if e == nil {
		t.Errorf("%s %s: tombstone, want op %s", tb, r.ID, w.op)
		return
	}
	big, _ := e.After["big"].(string)
	if e.Op != w.op || mustInt(e.After["small"]) != w.small || big != w.big {
		t.Errorf("%s %s: op %s small %v big %s, want op %s small %d big %s",
			tb, r.ID, e.Op, e.After["small"], abbrev(e.After["big"]), w.op, w.small, abbrev(w.big))
	}
	switch {
	case w.beforeBig == "" && e.Before != nil:
		t.Errorf("%s %s: before %v, want null", tb, r.ID, abbrev(e.Before))
	case w.beforeBig != "":
		bb, _ := e.Before["big"].(string)
		if bb != w.beforeBig || mustInt(e.Before["small"]) != w.small-1 {
			t.Errorf("%s %s: before small %v big %s, want %d and %s", tb, r.ID, e.Before["small"], abbrev(bb), w.small-1, abbrev(w.beforeBig))
		}
	}
}

// abbrev shortens long values for messages.
func abbrev(v any) string {
	s := fmtAny(v)
	if len(s) > 60 {
		return s[:40] + "…(" + itoa(int64(len(s))) + " chars)"
	}
	return s
}
