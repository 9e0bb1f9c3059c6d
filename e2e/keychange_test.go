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
	dsn := newDatabase(t)
	brokers := kafkaBrokers(t)
	conn := connect(t, dsn)
	mustExec(t, conn, `CREATE TABLE keyed (id int PRIMARY KEY, v text NOT NULL);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.keyed", markerTable)
	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO keyed VALUES (1, 'a')")
	mustExec(t, conn, "UPDATE keyed SET id = 2, v = 'b' WHERE id = 1")
	mustExec(t, conn, "UPDATE keyed SET v = 'c' WHERE id = 2")

	col := newCollector(t, brokers, cfg.topic("public.keyed"), cfg.topic(markerTable))
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	var got []string
	var update *rec
	for _, r := range col.recs {
		if r.Topic != cfg.topic("public.keyed") {
			continue
		}
		switch {
		case r.Tombstone:
			got = append(got, fmt.Sprintf("%s tombstone", r.Key))
		case r.KeyChangeCreate:
			got = append(got, fmt.Sprintf("%s %s -C v=%v", r.Key, r.Env.Op, r.Env.After["v"]))
			update = r
		default:
			got = append(got, fmt.Sprintf("%s %s v=%v", r.Key, r.Env.Op, field(r)))
		}
	}
	want := []string{"id=1 c v=a", "id=1 d v=<nil>", "id=1 tombstone", "id=2 c -C v=b", "id=2 u v=c"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records:\n got %q\nwant %q", got, want)
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
