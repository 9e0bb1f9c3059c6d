package filter

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/walrelay/walrelay/event"
)

// MsgTableRenamedDropped is the warning for a RenamedTable (Decision.Renamed).
const MsgTableRenamedDropped = "a table the rules captured was renamed or moved to a name they do not capture: " +
	"its changes are no longer published"

// RenamedTable is a table (same OID) that the rules in force capture under
// the name the lineage knew it by (Old) and drop under the name its changes
// now arrive with (New). Apply puts it in the first decision of the table
// under New; the caller logs it (MsgTableRenamedDropped, Fix), once per
// table, since the lineage takes New as the table's name from then on.
type RenamedTable struct {
	OID      uint32
	Old, New string // schema.table
}

// Fix is what the operator does to publish the table's changes again.
func (w *RenamedTable) Fix() string {
	return fmt.Sprintf("add %s to tables of the rule that names %s (or add a rule for %s), keeping %s for the changes "+
		"from before the rename, then send SIGHUP", w.New, w.Old, w.New, w.Old)
}

// tableRename is a relation version of a table that the lineage knew under
// another name (same OID): the rules in force decide it by its name now
// (to), while hidden are the columns the rules naming its former name
// (from) mask or exclude. A rule deciding it by to that publishes one of
// them in plain text halts (lost, halt). Rules are matched by name, so
// without it `ALTER TABLE ... RENAME TO` or `SET SCHEMA` would move a
// table from its masking rule to the default or another rule silently. A
// change from before the rename, replayed from the checkpoint, arrives
// under the older name, which the lineage then sees as the new one: it
// halts only if that name's rules publish what the newer name's hide.
type tableRename struct {
	oid      uint32
	from, to string
	hidden   []hiddenColumn
	lostBy   map[*Rule][]hiddenColumn // lost, per deciding rule (nil key: the default); reader goroutine only
	dropWarn *RenamedTable            // pending, see RenamedTable; nil once taken
}

// hiddenColumn is a column of the relation that rule masks or excludes
// under the table's former name, by one of names (its name, then the
// former names the column lineage knows).
type hiddenColumn struct {
	names    []string
	rule     *Rule
	excluded bool
}

// tableRenamed returns the rename of ts's table, whose lineage knew it as
// from before this relation version (ts's candidates and formerly are
// set), or nil: no former name, or neither a hidden column nor a capture
// the rename ends. When some rule deciding the table by its new name
// publishes a hidden column, the lineage keeps from as the table's name,
// so that the next relation version (after a reload, a session restart or
// a restart from the saved lineage) is checked against it again until the
// rules hide the columns under the new name too.
func (rs *Rules) tableRenamed(from string, rel *event.Relation, ts *tableState) *tableRename {
	to := rel.QualifiedName()
	if from == "" || from == to || rel.OID == 0 {
		return nil
	}
	tr := &tableRename{oid: rel.OID, from: from, to: to, hidden: rs.hiddenUnder(from, rel, ts.formerly)}
	if rs.Captures(from) && !rs.Captures(to) {
		tr.dropWarn = &RenamedTable{OID: rel.OID, Old: from, New: to}
	}
	if len(tr.hidden) == 0 && tr.dropWarn == nil {
		return nil
	}
	if tr.losesAny(rs, ts.cands) {
		rs.lineage.setName(rel.OID, from)
	}
	return tr
}

// hiddenUnder returns the columns of rel that the rules naming table mask
// or excluded (each with the first such rule), in column order. It stops at
// the first rule that decides every row change of the table (no where,
// all of insert, update and delete): the rules after it decide none.
func (rs *Rules) hiddenUnder(table string, rel *event.Relation, formerly map[string][]string) []hiddenColumn {
	var out []hiddenColumn
	seen := map[string]bool{}
	for _, r := range rs.Rules {
		if !r.matches(table) {
			continue
		}
		if !r.Drop && r.Outbox == nil {
			for _, c := range rel.Columns {
				names := append([]string{c.Name}, formerly[c.Name]...)
				masked, excluded := anyIn(r.Mask, names), anyIn(r.Exclude, names)
				if !seen[c.Name] && (masked || excluded) {
					seen[c.Name] = true
					out = append(out, hiddenColumn{names: names, rule: r, excluded: !masked})
				}
			}
		}
		if r.where == nil && r.ops&defaultOps == defaultOps {
			break
		}
	}
	return out
}

// losesAny reports whether a rule of cands that publishes, or the default
// when cands is empty, would publish a hidden column in plain text.
func (tr *tableRename) losesAny(rs *Rules, cands []*Rule) bool {
	if len(tr.hidden) == 0 {
		return false
	}
	if len(cands) == 0 {
		return rs.Default == DefaultCapture
	}
	return slices.ContainsFunc(cands, func(r *Rule) bool { return !r.Drop && len(tr.lost(r)) > 0 })
}

// lost returns the hidden columns that r (nil: the default, capture)
// publishes in plain text. Nil tr loses nothing.
func (tr *tableRename) lost(r *Rule) []hiddenColumn {
	if tr == nil || len(tr.hidden) == 0 {
		return nil
	}
	if out, ok := tr.lostBy[r]; ok {
		return out
	}
	var out []hiddenColumn
	for _, h := range tr.hidden {
		if r == nil || publishes(r, h.names) {
			out = append(out, h)
		}
	}
	if tr.lostBy == nil {
		tr.lostBy = map[*Rule][]hiddenColumn{}
	}
	tr.lostBy[r] = out
	return out
}

// publishes reports whether rule r puts a column known by names in its
// records: an outbox rule the columns it routes by, any other rule every
// column it neither masks nor excludes (one it hides by a former name only
// halts anyway, see renamedColumn).
func publishes(r *Rule, names []string) bool {
	if o := r.Outbox; o != nil {
		cols := []string{o.ID, o.Key, o.Payload, o.Type}
		if o.topic != nil {
			cols = append(cols, o.topic.vars()...)
		}
		return anyIn(cols, names[:1])
	}
	return !anyIn(r.Mask, names) && !anyIn(r.Exclude, names)
}

// check returns the halt when r (nil: the default, capture) would publish
// a hidden column of ch's table in plain text, else nil. Nil tr: nil.
func (tr *tableRename) check(rs *Rules, r *Rule, ch *event.Change) error {
	lost := tr.lost(r)
	if len(lost) == 0 {
		return nil
	}
	hr := lost[0].rule
	var cols []string
	for _, h := range lost {
		if h.rule == hr {
			kind := "masked"
			if h.excluded {
				kind = "excluded"
			}
			cols = append(cols, fmt.Sprintf("%s column %q", kind, h.names[0]))
		}
	}
	decider := "falls to the default (capture)"
	if r != nil {
		decider = fmt.Sprintf("is decided by rules[%d], which does not hide them", r.Index)
	}
	what := fmt.Sprintf("table %s was renamed or moved to %s (same OID %d): rules[%d] hides its %s under the name %s, "+
		"but %s %s: their values would be published in plain text",
		tr.from, tr.to, tr.oid, hr.Index, strings.Join(cols, ", "), tr.from, tr.to, decider)
	fix := fmt.Sprintf("add %s to tables of rules[%d] and keep %s there, since changes from before the rename may be "+
		"replayed from the checkpoint; or add a rule for %s that hides these columns, ahead of any other rule naming it; "+
		"then send SIGHUP", tr.to, hr.Index, tr.from, tr.to)
	e := rs.ruleError(hr, ch, errors.New(what), lost[0].names[0], fix)
	e.Where = ""
	return e
}

// takeWarning returns the pending RenamedTable once, then nil. Nil tr: nil.
func (tr *tableRename) takeWarning() *RenamedTable {
	if tr == nil {
		return nil
	}
	w := tr.dropWarn
	tr.dropWarn = nil
	return w
}

// anyIn reports whether list holds one of names.
func anyIn(list, names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return n != "" && contains(list, n) })
}

// nameOf returns the name the lineage knows table oid by, "" when unknown.
// Reader goroutine.
func (l *lineage) nameOf(oid uint32) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if h := l.tables[oid]; h != nil {
		return h.name
	}
	return ""
}

// setName makes name the one the lineage knows table oid by (see
// tableRenamed). Reader goroutine.
func (l *lineage) setName(oid uint32, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h := l.tables[oid]; h != nil {
		h.name = name
	}
}
