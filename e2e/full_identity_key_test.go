package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFullIdentityKeyAfterAddPrimaryKey: a REPLICA IDENTITY FULL table that
// gains a primary key while walrelay streams it. pgoutput flags every
// column of a FULL table either way, so the Relation message PostgreSQL
// re-sends after ALTER TABLE ... ADD PRIMARY KEY is identical to the first;
// walrelay must still read the key again (the audit's DDL defect 2: it kept
// a null key, and a key-changing update came out as a single 'u'). Changes
// after the DDL carry the key, and a key-changing update is a delete, a
// tombstone and a create.
func TestFullIdentityKeyAfterAddPrimaryKey(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE fu (id int NOT NULL, x text);
		ALTER TABLE fu REPLICA IDENTITY FULL;`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.fu", markerTable)
	r := startRelay(t, cfg)
	topic := cfg.topic("public.fu")
	col := newCollector(t, brokers, topic, cfg.topic(markerTable))

	mustExec(t, conn, "INSERT INTO fu VALUES (1, 'before-pk')")
	catchUp(t, cfg, conn, col, col, 2*time.Minute) // the keyless version is cached
	mustExec(t, conn, "ALTER TABLE fu ADD PRIMARY KEY (id)")
	mustExec(t, conn, "INSERT INTO fu VALUES (2, 'b')")
	mustExec(t, conn, "UPDATE fu SET x = 'b2' WHERE id = 2")
	mustExec(t, conn, "UPDATE fu SET id = 3 WHERE id = 2")
	catchUp(t, cfg, conn, col, col, 2*time.Minute)

	got := map[string][]string{}
	for _, rc := range col.recs {
		if rc.Topic != topic {
			continue
		}
		switch {
		case rc.Tombstone:
			got[rc.Key] = append(got[rc.Key], "tombstone"+keyHeaderOf(t, rc, ".public.fu.Key"))
		case rc.KeyChangeCreate:
			got[rc.Key] = append(got[rc.Key], fmt.Sprintf("%s -C x=%v%s", rc.Env.Op, rc.Env.After["x"], keyHeaderOf(t, rc, ".public.fu.Key")))
		case rc.Env.Op == "d":
			got[rc.Key] = append(got[rc.Key], fmt.Sprintf("d x=%v%s", rc.Env.Before["x"], keyHeaderOf(t, rc, ".public.fu.Key")))
		default:
			got[rc.Key] = append(got[rc.Key], fmt.Sprintf("%s x=%v", rc.Env.Op, rc.Env.After["x"]))
		}
	}
	want := map[string][]string{
		"null": {"c x=before-pk"},
		"id=2": {"c x=b", "u x=b2", `d x=b2 newkey={"id":3}`, `tombstone newkey={"id":3}`},
		"id=3": {`c -C x=b2 oldkey={"id":2}`},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records per key:\n got %q\nwant %q", got, want)
	}
	changed := r.findLog("relation changed")
	if changed == nil || changed["table"] != "public.fu" || changed["reason"] != "primary key changed" {
		t.Errorf("relation changed log line %v, want one for public.fu with reason \"primary key changed\"", changed)
	}
}

// keyHeaderOf is keyHeader for any table: the Key struct's name must end in
// keyName.
func keyHeaderOf(t *testing.T, r *rec, keyName string) string {
	t.Helper()
	out := ""
	for _, name := range []string{"newkey", "oldkey"} {
		v, ok := r.Headers["__debezium."+name]
		if !ok {
			continue
		}
		var hv struct {
			Schema  struct{ Type, Name string }
			Payload json.RawMessage
		}
		if err := json.Unmarshal([]byte(v), &hv); err != nil || hv.Schema.Type != "struct" || !strings.HasSuffix(hv.Schema.Name, keyName) {
			t.Errorf("__debezium.%s header of %s: %s (%v)", name, r.ID, v, err)
		}
		out += " " + name + "=" + string(hv.Payload)
	}
	return out
}
