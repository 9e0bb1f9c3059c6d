package filter

import (
	"errors"
	"fmt"
	"time"

	"github.com/walrelay/walrelay/event"
)

// Action is what the pipeline does with a change.
type Action uint8

// Actions.
const (
	Drop Action = iota // publish nothing (the change still counts as handled)
	Keep               // encode Decision.Change, on Decision.Topic when set
	Raw                // publish Decision.Raw as is (outbox rows, routed messages)
)

func (a Action) String() string {
	switch a {
	case Keep:
		return "keep"
	case Raw:
		return "raw"
	}
	return "drop"
}

// Decision is the outcome of Apply.
type Decision struct {
	Action Action
	// Change is the change to encode (Keep): a copy of the input, whose
	// Relation and rows are projected for row changes (excluded columns
	// removed, masked ones hashed); never the input itself.
	Change *event.Change
	// Topic overrides the encoder's topic (Keep) when not empty.
	Topic string
	// Raw is the record to publish (Raw).
	Raw *RawEvent
	// Rule is the index of the deciding rule, or -1 (default, no match,
	// message route).
	Rule int
	// Renamed is set (Drop) on the first change of a table the rules
	// capture under its former name and drop under its new one: the caller
	// logs it (see RenamedTable).
	Renamed *RenamedTable
}

// RawEvent is a record published as is: an outbox row or a routed logical
// decoding message. See (*RawEvent).Record for its headers.
type RawEvent struct {
	Topic       string
	Key         []byte // nil: no key
	Value       []byte // the payload as is; nil for a NULL payload
	ID          string // ce_id
	Type        string // ce_type
	ContentType string
	Time        time.Time // ce_time: the commit time
}

// tableState is what Apply knows about one decoder relation version.
type tableState struct {
	cands    []*Rule // rules that name the table, in file order
	identity *projection
	views    map[*Rule]*ruleView
	needs    map[string]bool     // columns the candidates' where expressions read; nil = all
	fits     map[*Rule]*misfit   // where expressions checked against this relation; nil value: fits
	formerly map[string][]string // the columns' former names (lineage.observe); nil: none renamed
	older    bool                // a version from before a rename, replayed (lineage.observe)
	moved    *tableRename        // the table had another name in the lineage; nil: not renamed
}

// ruleView is a rule applied to one relation version.
type ruleView struct {
	proj    *projection
	topic   string
	outbox  *outboxCols
	err     error          // the rule cannot apply to this relation (e.g. an outbox column is missing)
	renamed *renamedColumn // a column the rule masks or excludes by a former name only: halts
}

// Apply decides what to publish for ch. The first rule naming ch's table
// whose operations include ch's and whose where expression holds decides; a
// table that no rule names follows the default; logical messages follow
// messages:. Apply never modifies ch.
//
// Called on the pipeline's reader goroutine only (it fills caches without
// locks). An error (a where expression failing at run time, an outbox row
// that cannot be routed, a table renamed away from the rule that hid some
// of its columns, see tableRename) names the table, event ID and rule; the
// pipeline must halt rather than skip the change.
func (rs *Rules) Apply(ch *event.Change) (Decision, error) {
	if ch.Op == event.OpMessage {
		return rs.applyMessage(ch)
	}
	rel := ch.Relation
	if rel == nil {
		return Decision{}, fmt.Errorf("filter: change %s at LSN %s has no relation", ch.Op, ch.LSN)
	}
	ts := rs.table(rel, ch.LSN)
	d, err := rs.applyRow(ts, ch)
	if err == nil && d.Action == Drop {
		d.Renamed = ts.moved.takeWarning()
	}
	return d, err
}

// applyRow decides a row change (or truncate) of ts's table.
func (rs *Rules) applyRow(ts *tableState, ch *event.Change) (Decision, error) {
	if len(ts.cands) == 0 {
		if rs.Default == DefaultCapture {
			if err := ts.moved.check(rs, nil, ch); err != nil {
				return Decision{}, err
			}
			return Decision{Action: Keep, Change: ts.identity.apply(ch, rs.salt), Rule: -1}, nil
		}
		return Decision{Rule: -1}, nil
	}
	r, err := rs.firstMatch(ts, ch)
	if err != nil || r == nil {
		return Decision{Rule: -1}, err
	}
	return rs.decide(ts, r, ch)
}

// firstMatch returns the deciding rule, or nil.
func (rs *Rules) firstMatch(ts *tableState, ch *event.Change) (*Rule, error) {
	bit := opOf(ch.Op)
	var env *exprEnv
	for _, r := range ts.cands {
		if r.ops&bit == 0 {
			continue
		}
		if r.where == nil || ch.Op == event.OpTruncate {
			return r, nil
		}
		if err := rs.fitsRelation(ts, r, ch); err != nil {
			return nil, err
		}
		if env == nil {
			env = newEnv(ch, ts.needs)
		}
		ok, err := r.where.eval(env)
		if err != nil {
			err = rs.withhold(r.where, ch.Relation.QualifiedName(), err)
			return nil, rs.ruleError(r, ch, err, "", "fix the expression, e.g. guard NULLs with ?? or convert types")
		}
		if ok {
			return r, nil
		}
	}
	return nil, nil
}

// fitsRelation checks, once per relation version, that r's where
// expression fits ch's relation (predicate.fit): a column it names that the
// table no longer has, or a type that changed under it, is an error rather
// than a NULL that silently drops the change.
func (rs *Rules) fitsRelation(ts *tableState, r *Rule, ch *event.Change) error {
	rel := ch.Relation
	m, checked := ts.fits[r]
	if !checked {
		m = r.where.fit(columnNames(rel), columnTypes(rel))
		if ts.fits == nil {
			ts.fits = map[*Rule]*misfit{}
		}
		ts.fits[r] = m
	}
	if m == nil {
		return nil
	}
	detail := m.detail(r.where, rel.QualifiedName(), columnNames(rel), columnTypes(rel))
	if m.column == "" {
		detail = "the expression " + detail
	}
	return rs.ruleError(r, ch, errors.New(detail), m.column, m.fix())
}

// ruleError builds the *RuleError of rule r deciding ch.
func (rs *Rules) ruleError(r *Rule, ch *event.Change, err error, column, fix string) *RuleError {
	return &RuleError{File: rs.File, Rule: r.Index, Line: r.Pos.Line, Where: r.Where,
		Table: ch.Relation.QualifiedName(), Event: ch.ID(), Column: column, Err: err, Fix: fix}
}

// newEnv builds the where expressions' variables for ch, converting the
// columns in needs only (all when nil).
func newEnv(ch *event.Change, needs map[string]bool) *exprEnv {
	env := &exprEnv{
		Before: rowMap(ch.Relation, ch.Before, needs),
		After:  rowMap(ch.Relation, ch.After, needs),
		Op:     opName(ch.Op),
	}
	env.Row = env.After
	if ch.Op == event.OpDelete {
		env.Row = env.Before
	}
	return env
}

// decide applies the deciding rule r.
func (rs *Rules) decide(ts *tableState, r *Rule, ch *event.Change) (Decision, error) {
	if r.Drop {
		return Decision{Rule: r.Index}, nil
	}
	v := rs.view(ts, r, ch.Relation)
	if v.err != nil {
		e := rs.ruleError(r, ch, v.err, "", "fix the rule's outbox or topic for this table")
		e.Where = ""
		return Decision{}, e
	}
	if v.renamed != nil {
		return Decision{}, v.renamed.halt(rs, r, ch)
	}
	if err := ts.moved.check(rs, r, ch); err != nil {
		return Decision{}, err
	}
	if r.Outbox != nil {
		return rs.outboxDecision(r, v.outbox, ch)
	}
	return Decision{Action: Keep, Change: v.proj.apply(ch, rs.salt), Topic: v.topic, Rule: r.Index}, nil
}

// table returns (building once) the state of a decoder relation version,
// first seen with a change at lsn.
func (rs *Rules) table(rel *event.Relation, lsn event.LSN) *tableState {
	if ts, ok := rs.tables[rel]; ok {
		return ts
	}
	name := rel.QualifiedName()
	ts := &tableState{views: map[*Rule]*ruleView{}, identity: newProjection(rs.versions, rel, nil, nil, nil)}
	if rs.lineage == nil { // Rules not made by Parse
		rs.lineage = newLineage()
	}
	formerName := rs.lineage.nameOf(rel.OID)
	ts.formerly, ts.older = rs.lineage.observe(rel, lsn)
	ts.needs = map[string]bool{}
	readsAll := false
	for _, r := range rs.Rules {
		if r.matches(name) {
			ts.cands = append(ts.cands, r)
			readsAll = readsAll || r.where != nil && !r.where.needed(ts.needs)
		}
	}
	if readsAll { // some expression may read any column
		ts.needs = nil
	}
	ts.moved = rs.tableRenamed(formerName, rel, ts)
	rs.tables[rel] = ts
	return ts
}

// view returns (building once) rule r applied to rel.
func (rs *Rules) view(ts *tableState, r *Rule, rel *event.Relation) *ruleView {
	if v, ok := ts.views[r]; ok {
		return v
	}
	v := &ruleView{}
	if r.Outbox != nil {
		v.outbox, v.err = resolveOutbox(r.Outbox, rel)
	} else {
		v.proj = newProjection(rs.versions, rel, r.Exclude, r.Mask, r.Key)
		v.renamed = r.renamedColumn(rel, ts.formerly, ts.older)
		if r.topic != nil {
			v.topic, v.err = r.topic.expand(func(name string) (string, error) {
				if name == "schema" {
					return rel.Schema, nil
				}
				return rel.Table, nil
			})
		}
	}
	ts.views[r] = v
	return v
}
