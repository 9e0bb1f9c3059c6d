package filter

import "fmt"

// rowShadow returns the first earlier rule without a where expression that
// decides, for the table "schema.table", some of the row changes rule r
// names, when such earlier rules together decide all of them: r then never
// decides a row change of the table (an outbox rule: never an insert, the
// only change it publishes). Nil when r decides some, or names only
// truncates. The load refuses a rule shadowed for all its tables and
// operations (checkReach); this finds what the load lets through: a rule
// that still takes the truncates (an outbox rule takes every operation),
// or one shadowed for some of its tables only, globs included. A rule that
// reaches the table through a glob only, after rules that name it exactly,
// is the idiom of exceptions first and is not reported.
func (rs *Rules) rowShadow(r *Rule, name string) *Rule {
	open := r.ops &^ opTruncate
	if r.Outbox != nil {
		open = opInsert
	}
	if open == 0 {
		return nil
	}
	var first *Rule
	for _, e := range rs.Rules {
		if e == r {
			return nil
		}
		if e.where != nil || !e.matches(name) || e.ops&open == 0 {
			continue
		}
		if first == nil {
			first = e
		}
		if open &^= e.ops; open == 0 {
			if first.namesExactly(name) && !r.namesExactly(name) {
				return nil // an exception before a glob: "drop public.x, then public.*"
			}
			return first
		}
	}
	return nil
}

// namesExactly reports whether r names the table "schema.table" by its
// exact name, not only through a glob or regular expression.
func (r *Rule) namesExactly(name string) bool {
	for _, p := range r.pats {
		if p.kind == patExact && p.match(name) {
			return true
		}
	}
	return false
}

// shadowProblem reports rule r, which never decides a row change of table
// name because of the earlier rule by (rowShadow), with the fix.
func (rs *Rules) shadowProblem(r, by *Rule, name string) *Error {
	if r.Outbox != nil {
		return &Error{File: rs.File, Pos: r.Pos,
			Msg: fmt.Sprintf("rules[%d] is an outbox rule for %s but never decides its inserts: rules[%d] (line %d) names the table first and decides them (the first rule that matches decides), so its rows are published as row events and the outbox rule only turns truncates into nothing",
				r.Index, name, by.Index, by.Pos.Line),
			Fix: fmt.Sprintf("move the outbox rule above line %d, or leave %s out of rules[%d]'s tables", by.Pos.Line, name, by.Index)}
	}
	return &Error{File: rs.File, Pos: r.Pos,
		Msg: fmt.Sprintf("rules[%d] never decides a row change of %s: rules[%d] (line %d) names the table first and decides the operations rules[%d] names (the first rule that matches decides)%s",
			r.Index, name, by.Index, by.Pos.Line, r.Index, onlyTruncates(r)),
		Fix: fmt.Sprintf("move rules[%d] above line %d if it should decide them, or leave %s out of one of the two rules", r.Index, by.Pos.Line, name)}
}

// onlyTruncates says, for a message, that truncates are all rule r still
// decides, when it names them.
func onlyTruncates(r *Rule) string {
	if r.ops&opTruncate == 0 {
		return ""
	}
	return "; only its truncates are left to it"
}
