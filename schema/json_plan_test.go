package schema

import (
	"fmt"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// TestJSONPlanFollowsRelation: the names the JSON encoder escapes once per
// relation follow a new version of the relation (a renamed column, a
// renamed table) and are escaped; a relation with the same names shares
// the plan whatever its version; a relation rebuilt with the first
// version's content gets the first output again.
func TestJSONPlanFollowsRelation(t *testing.T) {
	t.Parallel()
	e := NewJSON(testOptions())
	rel := ordersRel()
	row := ordersRow(7, "n")
	first := decodeObj(t, mustEncode(t, e, change(event.OpCreate, rel, nil, row))[0].Value)
	if _, ok := first["after"].(map[string]any)["qty"]; !ok {
		t.Fatalf("after = %v, want a qty field", first["after"])
	}

	renamed := ordersRel()
	renamed.Version = 2
	renamed.Table = `or"ders`
	renamed.Columns[1].Name = `q"ty\n`
	recs := mustEncode(t, e, change(event.OpCreate, renamed, nil, row))
	got := decodeObj(t, recs[0].Value)
	after := got["after"].(map[string]any)
	if _, ok := after["qty"]; ok {
		t.Fatalf("after = %v: the old column name after a new version", after)
	}
	if fmt.Sprint(after[`q"ty\n`]) != "3" {
		t.Fatalf("after = %v, want the renamed column with its value", after)
	}
	if src := got["source"].(map[string]any); src["table"] != `or"ders` || src["schema"] != "public" {
		t.Fatalf("source = %v, want the renamed table", src)
	}
	if want := Topic(testOptions().TopicPrefix, renamed); recs[0].Topic != want {
		t.Fatalf("topic %q, want %q", recs[0].Topic, want)
	}

	if p1, p2 := e.plans.get(renamed), e.plans.get(&event.Relation{OID: renamed.OID, Version: 9,
		Schema: renamed.Schema, Table: renamed.Table, Columns: renamed.Columns}); p1 != p2 {
		t.Fatal("a relation with the same names under another version got a new plan (snapshot and stream would alternate)")
	}

	rebuilt := ordersRel() // version 1 again, a new pointer with v1's content
	again := decodeObj(t, mustEncode(t, e, change(event.OpCreate, rebuilt, nil, row))[0].Value)
	if _, ok := again["after"].(map[string]any)["qty"]; !ok {
		t.Fatalf("after = %v: a rebuilt version 1 must print version 1's names", again["after"])
	}
}
