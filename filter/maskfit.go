package filter

import "fmt"

// maskProblems reports the masked columns of rule r that none of the
// tables it names (matched, the rule's tables among the catalog's) has: a
// typo there would publish the column it meant unmasked. A column some
// tables of a glob lack is fine as long as one has it. A rule that names no
// existing table yet is not judged (Describe reports it). walrelay run
// refuses such a file, as it does a where that does not fit (CheckWhere).
func (rs *Rules) maskProblems(r *Rule, matched []Table) []*Error {
	if len(matched) == 0 {
		return nil
	}
	var out []*Error
	for _, c := range r.Mask {
		found := false
		for _, t := range matched {
			if contains(t.Columns, c) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, &Error{File: rs.File, Pos: r.colPos[c],
				Msg: fmt.Sprintf("rules[%d]: masked column %q exists in none of the tables the rule names (%s): the column it means would be published unmasked",
					r.Index, c, tableNames(matched)),
				Fix: "fix the column name (names are case-sensitive), or remove it from columns.mask"})
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
