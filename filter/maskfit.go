package filter

import (
	"fmt"
	"slices"
)

// maskProblems reports the masked columns of rule r that none of the
// tables it names (matched, the rule's tables among the catalog's) has: a
// typo there would publish the column it meant unmasked. A column some
// tables of a glob lack is fine as long as one has it. A rule that names no
// existing table yet is not judged (Describe reports it). walrelay run
// refuses such a file, as it does a where that does not fit (CheckWhere).
func (rs *Rules) maskProblems(r *Rule, matched []Table) []*Error {
	var out []*Error
	for _, c := range maskedNowhere(r, matched) {
		out = append(out, &Error{File: rs.File, Pos: r.colPos[c],
			Msg: fmt.Sprintf("rules[%d]: masked column %q exists in none of the tables the rule names (%s): the column it means would be published unmasked",
				r.Index, c, tableNames(matched)),
			Fix: "fix the column name (names are case-sensitive), or remove it from columns.mask"})
	}
	return out
}

// maskedNowhere returns the masked columns of rule r that none of matched
// has, in the rule's order; nil when matched is empty.
func maskedNowhere(r *Rule, matched []Table) []string {
	if len(matched) == 0 {
		return nil
	}
	var out []string
	for _, c := range r.Mask {
		if !slices.ContainsFunc(matched, func(t Table) bool { return contains(t.Columns, c) }) {
			out = append(out, c)
		}
	}
	return out
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
