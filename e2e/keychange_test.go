package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestKeyChangingUpdate: an UPDATE that changes the primary key is published
// as Debezium does, a delete of the old key (with its tombstone) and a create
// of the new key, so a compacted topic does not keep the old key alive.
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
			got[r.Key] = append(got[r.Key], "tombstone")
		case r.KeyChangeCreate:
			got[r.Key] = append(got[r.Key], fmt.Sprintf("%s -C v=%v", r.Env.Op, r.Env.After["v"]))
			update = r
		default:
			got[r.Key] = append(got[r.Key], fmt.Sprintf("%s v=%v", r.Env.Op, field(r)))
		}
	}
	want := map[string][]string{
		"id=1": {"c v=a", "d v=<nil>", "tombstone"},
		"id=2": {"c -C v=b", "u v=c"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records per key:\n got %q\nwant %q", got, want)
	}
	if update.Env.Before != nil {
		t.Errorf("the create half has a before image: %v", update.Env.Before)
	}
}

// field is after.v, or before.v for deletes.
func field(r *rec) any {
	if r.Env.Op == "d" {
		return r.Env.Before["v"]
	}
	return r.Env.After["v"]
}
