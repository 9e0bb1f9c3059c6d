package filter

import (
	"fmt"

	"github.com/walrelay/walrelay/event"
)

// Default ce_type and content-type values of raw records.
const (
	OutboxType          = "io.walrelay.outbox"
	MessageType         = "io.walrelay.message"
	ContentTypeJSON     = "application/json"
	ContentTypeText     = "text/plain; charset=utf-8"
	ContentTypeBinary   = "application/octet-stream"
	messageContentType  = ContentTypeBinary
	unresolvedColumnFix = "check the outbox columns against the table, e.g. with walrelay check"
)

// outboxCols are an outbox's columns resolved in one relation version.
type outboxCols struct {
	id, key, payload, typ int // column indexes; -1 when not configured
	vars                  map[string]int
	contentType           string
}

// resolveOutbox finds the outbox's columns in rel; a missing one is an error.
func resolveOutbox(o *Outbox, rel *event.Relation) (*outboxCols, error) {
	idx := map[string]int{}
	for i, c := range rel.Columns {
		idx[c.Name] = i
	}
	col := func(name, what string) (int, error) {
		if name == "" {
			return -1, nil
		}
		i, ok := idx[name]
		if !ok {
			return 0, fmt.Errorf("outbox %s column %q does not exist in %s (%s)", what, name, rel.QualifiedName(), unresolvedColumnFix)
		}
		return i, nil
	}
	oc := &outboxCols{vars: map[string]int{}, contentType: o.ContentType}
	var err error
	for _, c := range []struct {
		dst        *int
		name, what string
	}{{&oc.id, o.ID, "id"}, {&oc.key, o.Key, "key"}, {&oc.payload, o.Payload, "payload"}, {&oc.typ, o.Type, "type"}} {
		if *c.dst, err = col(c.name, c.what); err != nil {
			return nil, err
		}
	}
	for _, v := range o.topic.vars() {
		if oc.vars[v], err = col(v, "topic template"); err != nil {
			return nil, err
		}
	}
	if oc.contentType == "" {
		oc.contentType = payloadContentType(rel.Columns[oc.payload])
	}
	return oc, nil
}

// payloadContentType picks content-type from the payload column's type.
func payloadContentType(c event.Column) string {
	switch c.TypeName {
	case "json", "jsonb":
		return ContentTypeJSON
	case "bytea":
		return ContentTypeBinary
	}
	return ContentTypeText
}

// outboxDecision turns an inserted outbox row into a raw record; updates,
// deletes (an application keeping the table empty), truncates and snapshot
// reads publish nothing. A row that cannot become an event (a NULL or empty
// id, a NULL topic-template column, a topic Kafka refuses) is a *RuleError
// with a fix: the pipeline halts rather than lose the event.
func (rs *Rules) outboxDecision(r *Rule, oc *outboxCols, ch *event.Change) (Decision, error) {
	if ch.Op != event.OpCreate {
		return Decision{Rule: r.Index}, nil
	}
	row := ch.After
	fail := func(fix string, err error) (Decision, error) {
		e := rs.ruleError(r, ch, fmt.Errorf("outbox row: %w", err), "", fix)
		e.Where = ""
		return Decision{}, e
	}
	if len(row) != len(ch.Relation.Columns) {
		return fail("", fmt.Errorf("row has %d values for %d columns", len(row), len(ch.Relation.Columns)))
	}
	id, ok := textOf(row[oc.id])
	if !ok || id == "" {
		return fail(outboxSkipFix(ch.Relation.Columns[oc.id], "every outbox row needs an event ID: make the column NOT NULL, e.g. with DEFAULT gen_random_uuid()"),
			fmt.Errorf("id column %q is NULL or empty (every outbox row needs an event ID)", r.Outbox.ID))
	}
	var nullCol string
	topic, err := r.Outbox.topic.expand(func(name string) (string, error) {
		v, ok := textOf(row[oc.vars[name]])
		if !ok {
			nullCol = name
			return "", fmt.Errorf("topic template column %q is NULL", name)
		}
		return v, nil
	})
	switch {
	case err != nil && nullCol != "":
		return fail(outboxSkipFix(ch.Relation.Columns[oc.vars[nullCol]], "make the topic template's columns NOT NULL"), err)
	case err != nil:
		return fail("shorten the topic template or the values it takes (Kafka topics have at most 249 characters); "+
			"to skip such rows, add a where to the rule that leaves them out", err)
	}
	ev := &RawEvent{Topic: topic, ID: id, Type: OutboxType, ContentType: oc.contentType, Time: ch.Tx.CommitTime}
	if oc.key >= 0 {
		if k, ok := textOf(row[oc.key]); ok {
			ev.Key = []byte(k)
		}
	}
	if v, ok := textOf(row[oc.payload]); ok {
		ev.Value = []byte(v)
	}
	if oc.typ >= 0 {
		if t, ok := textOf(row[oc.typ]); ok && t != "" {
			ev.Type = t
		}
	}
	return Decision{Action: Raw, Raw: ev, Rule: r.Index}, nil
}

// applyMessage routes a logical decoding message: the first route whose
// prefix matches a transactional message publishes it raw; anything else is
// captured as a message event under default: capture and dropped otherwise.
func (rs *Rules) applyMessage(ch *event.Change) (Decision, error) {
	m := ch.Message
	if m == nil {
		return Decision{}, fmt.Errorf("filter: message change at LSN %s has no message", ch.LSN)
	}
	if m.Transactional {
		for _, mr := range rs.Messages {
			if mr.pat.match(m.Prefix) {
				return mr.decision(ch)
			}
		}
	}
	if rs.Default == DefaultCapture {
		c := *ch
		return Decision{Action: Keep, Change: &c, Rule: -1}, nil
	}
	return Decision{Rule: -1}, nil
}

func (mr *MessageRoute) decision(ch *event.Change) (Decision, error) {
	m := ch.Message
	topic, err := mr.topic.expand(func(string) (string, error) { return m.Prefix, nil })
	if err != nil {
		return Decision{}, fmt.Errorf("filter: message route (line %d) for prefix %q, event %s: %w", mr.Pos.Line, m.Prefix, ch.ID(), err)
	}
	ev := &RawEvent{
		Topic: topic, Key: []byte(m.Prefix), Value: m.Content, ID: ch.ID(),
		Type: MessageType, ContentType: messageContentType, Time: ch.Tx.CommitTime,
	}
	if mr.Type != "" {
		ev.Type = mr.Type
	}
	if mr.ContentType != "" {
		ev.ContentType = mr.ContentType
	}
	return Decision{Action: Raw, Raw: ev, Rule: -1}, nil
}

// outboxSkipFix is the fix of an outbox row whose column c is NULL (or
// empty): how to prevent such rows, and how to skip them instead (losing
// those events), which SIGHUP applies to the halted row too.
func outboxSkipFix(c event.Column, prevent string) string {
	cond := fmt.Sprintf("row.%s != nil", c.Name)
	switch c.TypeName {
	case "text", "varchar", "bpchar", "name":
		cond += fmt.Sprintf(" && row.%s != ''", c.Name)
	}
	return fmt.Sprintf(`%s; to skip such rows (their events are not published), add where: "%s" to the rule`, prevent, cond)
}

// OutboxTable reports whether an insert into the table "schema.table"
// (or a snapshot read of it) can be decided by an outbox rule: the first
// rule naming it for inserts is one, or an earlier one's where expression
// may pass some inserts on to one. A snapshot of such a table publishes no
// events for the rows the outbox rule decides, and the rows written to it
// before it joined the publication are never published: walrelay cannot
// decode WAL of a table outside the publication.
func (rs *Rules) OutboxTable(name string) bool {
	for _, r := range rs.Rules {
		if !r.matches(name) || r.ops&opInsert == 0 {
			continue
		}
		if r.Outbox != nil {
			return true
		}
		if r.where == nil {
			return false // this rule takes every insert
		}
	}
	return false
}

// OutboxTables returns those of tables ("schema.table") that OutboxTable
// reports, in their order.
func (rs *Rules) OutboxTables(tables []string) []string {
	var out []string
	for _, t := range tables {
		if rs.OutboxTable(t) {
			out = append(out, t)
		}
	}
	return out
}
