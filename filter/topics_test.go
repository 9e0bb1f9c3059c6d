package filter

import (
	"slices"
	"testing"
)

// TestTableTopics: the topics a table's changes may go to, as the pipeline
// creates them before the snapshot: rule topics (templates expanded), the
// default topic, nothing for dropped tables, outbox tables, or operations
// an earlier rule without where took.
func TestTableTopics(t *testing.T) {
	rs := mustParse(t, `
default: drop
rules:
  - tables: [public.orders]
    where: "row.amount > 100"
    topic: shop.big_orders
  - tables: [public.orders]
  - tables: ["sales.*"]
    topic: "sales.${table}"
  - tables: [archive.old]
    drop: true
  - tables: [public.outbox]
    outbox: {id: id, topic: "outbox.${aggregate_type}", payload: payload}
  - tables: [public.audit]
    operations: [insert, update, delete]
    drop: true
  - tables: [public.logs]
    operations: [insert, update, delete]
    drop: true
  - tables: [public.audit]
    operations: [truncate]
    topic: audit.truncates
`, "")
	for _, c := range []struct {
		schema, table string
		want          []string
	}{
		{"public", "orders", []string{"shop.big_orders", "def"}},
		{"sales", "q1", []string{"sales.q1"}},
		{"archive", "old", nil},
		{"public", "outbox", nil},
		{"public", "unnamed", nil},
		{"public", "audit", []string{"audit.truncates"}},
		{"public", "logs", nil},
	} {
		if got := rs.TableTopics(c.schema, c.table, "def"); !slices.Equal(got, c.want) {
			t.Errorf("TableTopics(%s.%s) = %q, want %q", c.schema, c.table, got, c.want)
		}
	}
	capture := mustParse(t, "default: capture\nrules:\n  - tables: [public.gone]\n    drop: true\n", "")
	if got := capture.TableTopics("public", "any", "def"); !slices.Equal(got, []string{"def"}) {
		t.Errorf("default capture: TableTopics = %q, want the default topic", got)
	}
	if got := capture.TableTopics("public", "gone", "def"); got != nil {
		t.Errorf("dropped table under default capture: TableTopics = %q, want none", got)
	}
}
