package schema

import (
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// After a restart there is no plan of the relation's previous version: the
// incompatible-change message names the old type as the registered
// schema's Avro type, not as a bare "from Avro int" that reads as if the
// PostgreSQL type were lost; the new type keeps its PostgreSQL name.
func TestIncompatibleChangeAfterRestartWording(t *testing.T) {
	rel := &event.Relation{Schema: "public", Table: "t", Columns: []event.Column{
		{Name: "code", TypeName: "text", TypeMod: -1, Key: true}}}
	p := &avroPlan{value: []avroField{{name: "code", column: &rel.Columns[0]}}}
	ie := &registry.IncompatibleError{Subject: "app.public.t-key", Problems: []registry.Problem{
		{Path: []string{"code"}, Change: registry.ChangeType, Old: "int", New: "string"}}}
	err := newIncompatibleChange(rel, p, nil, true, ie, "")
	msg := err.Error()
	if !strings.Contains(msg, `column "code" changed type from the registered Avro int to text (Avro string)`) {
		t.Errorf("message: %s", msg)
	}
}
