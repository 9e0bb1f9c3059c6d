package filter

import (
	"fmt"
	"slices"
)

// maskProblems reports the masked columns of rule r that none of the
// tables it names (matched, the rule's tables among the catalog's) has: a
// typo there would publish the column it meant unmasked. A column some
// tables of a glob lack is fine as long as one has it. A rule that names no
// existing table yet is not judged (Describe reports it). A name the
// column lineage knows for a column of one of them is fine too, if the
// rule also names the column's name now (see otherName): the halt of a
// renamed column asks for both. walrelay run refuses such a file, as it
// does a where that does not fit (CheckWhere).
func (rs *Rules) maskProblems(r *Rule, matched []Table) []*Error {
	var out []*Error
	known := rs.lineageNames(matched)
	for _, c := range rs.maskedNowhere(r, matched) {
		e := &Error{File: rs.File, Pos: r.colPos[c],
			Msg: fmt.Sprintf("rules[%d]: masked column %q exists in none of the tables the rule names (%s): the column it means would be published unmasked",
				r.Index, c, tableNames(matched)),
			Fix: "fix the column name (names are case-sensitive), or remove it from columns.mask"}
		for _, t := range matched {
			if _, now := otherName(r, t, c, known); now != "" {
				e.Msg += fmt.Sprintf(" (it is a former name of %s's column %q, which the rule does not mask)", t.QualifiedName(), now)
				e.Fix = fmt.Sprintf("add %q to columns.mask, and keep %q for the changes from before the rename", now, c)
				break
			}
		}
		out = append(out, e)
	}
	return out
}

// maskedNowhere returns the masked columns of rule r that none of matched
// has, nor may be named by the lineage (otherName), in the rule's order;
// nil when matched is empty.
func (rs *Rules) maskedNowhere(r *Rule, matched []Table) []string {
	if len(matched) == 0 {
		return nil
	}
	var out []string
	var known map[string][][]string
	for _, c := range r.Mask {
		if slices.ContainsFunc(matched, func(t Table) bool { return contains(t.Columns, c) }) {
			continue
		}
		if known == nil {
			known = rs.lineageNames(matched)
		}
		if !slices.ContainsFunc(matched, func(t Table) bool { ok, _ := otherName(r, t, c, known); return ok }) {
			out = append(out, c)
		}
	}
	return out
}

// lineageNames returns the names the column lineage knows for the columns
// of tables (lineage.names): seeded from the data directory at start (see
// SeedLineage) and shared with the rules in force (Inherit). Safe from any
// goroutine.
func (rs *Rules) lineageNames(tables []Table) map[string][][]string {
	names := make(map[string]bool, len(tables))
	for _, t := range tables {
		names[t.QualifiedName()] = true
	}
	return rs.lineage.names(names)
}

// otherName reports whether rule r may mask or exclude c, which table t
// lacks, because the column lineage (known, from lineageNames) knows c as
// another name of a column of t: one it had before a rename (or, after a
// replayed change from before it, one it has since), whose changes may be
// replayed from the checkpoint. It may if r also masks or excludes the
// column's name in t, or t has none of the column's names (dropped, or
// renamed before any change under the new name reached walrelay: that
// change halts then). Otherwise now is the column's name in t, which r
// lacks, and "" when the lineage does not know c for t.
func otherName(r *Rule, t Table, c string, known map[string][][]string) (ok bool, now string) {
	for _, names := range known[t.QualifiedName()] {
		if !slices.Contains(names, c) {
			continue
		}
		cur := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !contains(t.Columns, n) })
		if len(cur) == 0 || slices.ContainsFunc(cur, func(n string) bool { return contains(r.Mask, n) || contains(r.Exclude, n) }) {
			return true, ""
		}
		now = cur[0]
	}
	return false, now
}

// tableNames lists tables' qualified names, at most 5 and a count.
func tableNames(tables []Table) string {
	s := ""
	for i, t := range tables {
		if i == 5 {
			return fmt.Sprintf("%s and %d more", s, len(tables)-5)
		}
		if i > 0 {
			s += ", "
		}
		s += t.QualifiedName()
	}
	return s
}

// lineageAllows reports whether rule r may name c, which t lacks, by the
// column lineage (otherName): walrelay check and the start-up log do not
// list it as a column t lacks.
func (rs *Rules) lineageAllows(r *Rule, t Table, c string) bool {
	ok, _ := otherName(r, t, c, rs.lineageNames([]Table{t}))
	return ok
}
