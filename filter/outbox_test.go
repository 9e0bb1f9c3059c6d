package filter

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

var outboxRel = rel("public.outbox", "id:uuid*", "aggregate_type:text", "aggregate_id:text", "event_type:text", "payload:jsonb")

const outboxRules = `
rules:
  - tables: [public.outbox]
    outbox: {id: id, key: aggregate_id, topic: "outbox.${aggregate_type}", payload: payload, type: event_type}
messages:
  - prefix: events
    topic: app.events
  - prefix: "audit.*"
    topic: "audit.${prefix}"
    type: com.example.audit
    content_type: application/json
`

func TestOutbox(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, outboxRules, "")
	row := []any{"6f1c0b8e-0000-4000-8000-000000000001", "Order/EU", "order-42", "OrderPlaced", event.JSON(`{"total": 12.50, "items": [1, 2]}`)}
	d := mustApply(t, rs, ins(outboxRel, row...))
	if d.Action != Raw {
		t.Fatalf("insert: %s, want raw", d.Action)
	}
	ev := d.Raw
	if ev.Topic != "outbox.Order_EU" || string(ev.Key) != "order-42" || string(ev.Value) != `{"total": 12.50, "items": [1, 2]}` ||
		ev.ID != row[0] || ev.Type != "OrderPlaced" || ev.ContentType != ContentTypeJSON || !ev.Time.Equal(testTx.CommitTime) {
		t.Errorf("raw event %+v", ev)
	}
	rec := ev.Record(event.CloudEventsSource("7712616034995357163", "app"))
	want := map[string]string{
		"ce_specversion": "1.0", "ce_id": row[0].(string), "ce_source": "/walrelay/7712616034995357163/app",
		"ce_type": "OrderPlaced", "ce_time": testTx.CommitTime.Format(time.RFC3339Nano), "content-type": ContentTypeJSON,
	}
	if len(rec.Headers) != len(want) {
		t.Errorf("%d headers, want %d", len(rec.Headers), len(want))
	}
	for _, h := range rec.Headers {
		if want[h.Key] != string(h.Value) {
			t.Errorf("header %s = %q, want %q", h.Key, h.Value, want[h.Key])
		}
	}
	for _, ch := range []*event.Change{del(outboxRel, row...), upd(outboxRel, nil, row), trunc(outboxRel),
		change(event.OpRead, outboxRel, nil, row)} {
		if d := mustApply(t, rs, ch); d.Action != Drop {
			t.Errorf("%s of an outbox row: %s, want drop", ch.Op, d.Action)
		}
	}
}

func TestOutboxErrors(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, outboxRules, "")
	cases := []struct {
		rel  *event.Relation
		row  []any
		want string
	}{
		{outboxRel, []any{nil, "Order", "1", "T", event.JSON("{}")}, `id column "id" is NULL`},
		{outboxRel, []any{"x", nil, "1", "T", event.JSON("{}")}, `"aggregate_type" is NULL`},
		{rel("public.outbox", "id:uuid*", "aggregate_id:text", "payload:jsonb"), []any{"x", "1", event.JSON("{}")},
			`column "event_type" does not exist`},
	}
	for _, c := range cases {
		_, err := rs.Apply(ins(c.rel, c.row...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("row %v: error %v, want %q", c.row, err, c.want)
		}
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, outboxRules, "")
	d := mustApply(t, rs, msg("events", true, `{"a":1}`))
	if d.Action != Raw || d.Raw.Topic != "app.events" || string(d.Raw.Key) != "events" || string(d.Raw.Value) != `{"a":1}` ||
		d.Raw.ID != "00000000016B3748-00000003" || d.Raw.Type != MessageType || d.Raw.ContentType != ContentTypeBinary {
		t.Errorf("routed message %+v", d.Raw)
	}
	d = mustApply(t, rs, msg("audit.login", true, "x"))
	if d.Action != Raw || d.Raw.Topic != "audit.audit.login" || d.Raw.Type != "com.example.audit" || d.Raw.ContentType != "application/json" {
		t.Errorf("glob-routed message %+v", d.Raw)
	}
	for _, m := range []*event.Change{msg("events", false, "x"), msg("eventsx", true, "x")} {
		if d := mustApply(t, rs, m); d.Action != Drop {
			t.Errorf("message %q transactional=%v: %s, want drop", m.Message.Prefix, m.Message.Transactional, d.Action)
		}
	}
}

// TestOutboxRowErrorsHaveFix: an outbox row that cannot become an event (a
// NULL or empty id, a NULL topic-template column) halts the pipeline with
// a *RuleError whose fix says how to prevent such rows and how to skip
// them, with a where that fits the column's type (SIGHUP applies it to the
// halted row too); audit: the error gave no fix.
func TestOutboxRowErrorsHaveFix(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, outboxRules, "")
	textID := rel("public.outbox", "id:text*", "aggregate_type:text", "aggregate_id:text", "event_type:text", "payload:jsonb")
	intID := rel("public.outbox", "id:int8*", "aggregate_type:text", "aggregate_id:text", "event_type:text", "payload:jsonb")
	cases := []struct {
		rel  *event.Relation
		row  []any
		want []string
	}{
		{textID, []any{"", "Order", "1", "T", event.JSON("{}")},
			[]string{`id column "id" is NULL or empty`, "NOT NULL", `where: "row.id != nil && row.id != ''"`}},
		{intID, []any{nil, "Order", "1", "T", event.JSON("{}")}, []string{`where: "row.id != nil" to the rule`}},
		{outboxRel, []any{"x", nil, "1", "T", event.JSON("{}")},
			[]string{`"aggregate_type" is NULL`, `where: "row.aggregate_type != nil && row.aggregate_type != ''"`}},
	}
	for _, c := range cases {
		_, err := rs.Apply(ins(c.rel, c.row...))
		var re *RuleError
		if !errors.As(err, &re) || re.Fix == "" {
			t.Errorf("row %v: error %v, want a *RuleError with a fix", c.row, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("row %v: error %q lacks %q", c.row, err, w)
			}
		}
	}
}

// TestOutboxTable: a table whose inserts an outbox rule can decide is an
// outbox table (its snapshot reads publish nothing); one an earlier plain
// rule takes all inserts of is not.
func TestOutboxTable(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `rules:
  - tables: [public.plain]
  - tables: [public.some]
    where: "row.kind == 'x'"
  - tables: ["public.*"]
    outbox: {id: id, topic: t, payload: payload}
`, "")
	got := rs.OutboxTables([]string{"public.plain", "public.some", "public.obx", "other.obx"})
	if want := []string{"public.some", "public.obx"}; !slices.Equal(got, want) {
		t.Errorf("OutboxTables = %v, want %v", got, want)
	}
}
