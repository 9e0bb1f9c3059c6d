package filter

import (
	"github.com/walrelay/walrelay/event"
)

// Default is what happens to a table that no rule names.
type Default uint8

// Defaults.
const (
	DefaultDrop    Default = iota // not captured (the default)
	DefaultCapture                // captured as is, on its default topic
)

func (d Default) String() string {
	if d == DefaultCapture {
		return "capture"
	}
	return "drop"
}

// Rules is a loaded, validated rules file. Apply and Captures may be called
// from one goroutine at a time (the pipeline's reader goroutine): they fill
// per-relation caches without locks. Describe and the exported fields are
// read-only and safe anywhere.
type Rules struct {
	File     string
	Default  Default
	Rules    []*Rule
	Messages []*MessageRoute

	salt     []byte
	tables   map[*event.Relation]*tableState // per decoder relation version, see Apply
	versions *versions                       // shared with the rules this replaced, see Succeed
	lineage  *lineage                        // shared with the rules this replaced, see Succeed and Inherit
	// fromSaved are the tables (qualified names now) the saved column
	// lineage knew at a start from a checkpoint (GuardResume); nil: not
	// such a start, and the guard of resumeProblems is off.
	fromSaved map[string]bool
	// movedWhileStopped are, by qualified name now, the tables saved with
	// their shape only whose columns may have moved to other names while
	// walrelay was stopped (GuardResume); savedComplete says the saved
	// lineage had every table captured when it was saved, so a table it
	// lacks was not captured then.
	movedWhileStopped map[string]*movedColumns
	savedComplete     bool
}

// Rule is one entry of rules:. A change of a table the rule names is
// decided by the first such rule whose operations include the change's and
// whose where expression (if any) is true; a table named by some rule but
// matched by none of them is not captured.
type Rule struct {
	Index      int      // 0-based position in rules:
	Pos        Pos      // where the rule starts
	Tables     []string // patterns as written: exact, glob, or "re:" regular expression
	Operations []string // insert, update, delete, truncate
	Exclude    []string // columns.exclude
	Mask       []string // columns.mask
	Key        []string // key: the record key's columns; nil = the primary key (replica identity)
	Where      string   // expression on row, before, after, op; "" = always
	Topic      string   // topic template (${schema}, ${table}); "" = default topic
	Drop       bool     // matching changes are not captured
	Outbox     *Outbox  // the tables are transactional outboxes

	pats    []*pattern
	ops     opSet
	where   *predicate
	topic   *template
	maskPos Pos
	whereAt func(line, col int, known bool) Pos // a position inside where, in the file
	colPos  map[string]Pos                      // each excluded or masked column's entry
	keyPos  map[string]Pos                      // each key column's entry
}

// Outbox routes the rows inserted into an outbox table as events: each
// insert becomes one record on Topic (a template of the row's columns), keyed
// by the Key column's text, valued by the Payload column as is, with ce_id
// from the ID column and ce_type from the Type column. Updates, deletes and
// truncates of the table are not published.
type Outbox struct {
	Pos         Pos
	ID          string // column: ce_id (required)
	Key         string // column: record key, e.g. the aggregate ID ("" = no key)
	Topic       string // template of columns, e.g. "outbox.${aggregate_type}" (required)
	Payload     string // column: record value, as is (required)
	Type        string // column: ce_type ("" = io.walrelay.outbox)
	ContentType string // content-type header ("" = by the payload column's type)

	topic *template
}

// MessageRoute publishes transactional logical decoding messages
// (pg_logical_emit_message(true, prefix, content)) whose prefix matches
// Prefix as raw records: value = content as is, key = the prefix, ce_id =
// the change's event ID. The first matching route decides.
type MessageRoute struct {
	Pos         Pos
	Prefix      string // exact, glob, or "re:" regular expression
	Topic       string // topic template (${prefix})
	Type        string // ce_type ("" = io.walrelay.message)
	ContentType string // content-type header ("" = application/octet-stream)

	pat   *pattern
	topic *template
}

// Operation names as written in operations:.
const (
	OpInsert   = "insert"
	OpUpdate   = "update"
	OpDelete   = "delete"
	OpTruncate = "truncate"
)

// opSet is a set of operations.
type opSet uint8

const (
	opInsert opSet = 1 << iota
	opUpdate
	opDelete
	opTruncate
	opAll = opInsert | opUpdate | opDelete | opTruncate
)

var opNames = map[string]opSet{OpInsert: opInsert, OpUpdate: opUpdate, OpDelete: opDelete, OpTruncate: opTruncate}

// defaultOps are a rule's operations when it names none: truncate is off
// unless named.
const defaultOps = opInsert | opUpdate | opDelete

// opOf returns the set bit of a change's operation; snapshot reads count as
// inserts.
func opOf(op event.Op) opSet {
	switch op {
	case event.OpCreate, event.OpRead:
		return opInsert
	case event.OpUpdate:
		return opUpdate
	case event.OpDelete:
		return opDelete
	case event.OpTruncate:
		return opTruncate
	}
	return 0
}

// opName is the op variable of where expressions.
func opName(op event.Op) string {
	switch op {
	case event.OpCreate:
		return OpInsert
	case event.OpUpdate:
		return OpUpdate
	case event.OpDelete:
		return OpDelete
	case event.OpTruncate:
		return OpTruncate
	case event.OpRead:
		return "read"
	}
	return ""
}

// matches reports whether the rule names the table "schema.table".
func (r *Rule) matches(name string) bool {
	for _, p := range r.pats {
		if p.match(name) {
			return true
		}
	}
	return false
}

// Captures reports whether changes of the table "schema.table" can be
// published under these rules: some rule naming it does not drop, or no rule
// names it and the default is capture. The managed publication holds exactly
// the tables for which Captures is true.
func (rs *Rules) Captures(name string) bool {
	named := false
	open := opAll // operations no earlier unconditional drop rule took
	for _, r := range rs.Rules {
		if !r.matches(name) {
			continue
		}
		named = true
		switch {
		case !r.Drop && r.ops&open != 0:
			return true
		case r.Drop && r.where == nil:
			open &^= r.ops
		}
	}
	return !named && rs.Default == DefaultCapture
}

// MasksColumns reports whether any rule masks columns (and so needs a salt).
func (rs *Rules) MasksColumns() bool {
	for _, r := range rs.Rules {
		if len(r.Mask) > 0 {
			return true
		}
	}
	return false
}
