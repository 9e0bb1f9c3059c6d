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
// renamed column asks for both. So is a column the lineage shows was
// dropped from one of them (lineageDropped: columnsMissing warns). walrelay
// run refuses such a file, as it
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
// has, nor may be named by the lineage (otherName), nor was dropped from
// one of them as the lineage shows (lineageDropped), in the rule's order;
// nil when matched is empty.
func (rs *Rules) maskedNowhere(r *Rule, matched []Table) []string {
	if len(matched) == 0 {
		return nil
	}
	var out []string
	var (
		known   map[string][][]string
		dropped map[string][]string
	)
	for _, c := range r.Mask {
		if slices.ContainsFunc(matched, func(t Table) bool { return contains(t.Columns, c) }) {
			continue
		}
		if known == nil {
			known = rs.lineageNames(matched)
		}
		if slices.ContainsFunc(matched, func(t Table) bool { ok, _ := otherName(r, t, c, known); return ok }) {
			continue
		}
		if dropped == nil {
			dropped = rs.lineageDropped(matched)
		}
		if !slices.ContainsFunc(matched, func(t Table) bool { return contains(dropped[t.QualifiedName()], c) }) {
			out = append(out, c)
		}
	}
	return out
}

// lineageDropped returns, for each of tables that ReconcileLineage found
// changed at this start (no relation of it seen since), the saved columns
// the catalog no longer has and that cannot have been renamed (see
// reconciled.dropped), with their former names: a column dropped while
// walrelay was stopped, or after the last change of the table it saw, is
// not a typo (maskedNowhere; columnsMissing warns about it). Safe from any
// goroutine.
func (rs *Rules) lineageDropped(tables []Table) map[string][]string {
	l := rs.lineage
	if l == nil {
		return nil
	}
	names := make(map[string]bool, len(tables))
	for _, t := range tables {
		names[t.QualifiedName()] = true
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[string][]string{}
	for _, h := range l.tables {
		if names[h.name] && h.recon != nil {
			out[h.name] = append(out[h.name], h.recon.dropped(len(h.cols))...)
		}
	}
	return out
}

// dropped returns the saved columns of rc that no column of the catalog's
// (n of them) was paired with (toSaved), and their former names, when each
// was surely dropped: its saved attnum is known (pairSaved found it
// dropped there: a rename keeps the attnum), or every catalog column is
// paired with a saved one (nothing was added, so nothing can be its new
// name). A column dropped while the table gained others, with no attnum,
// may have been renamed (a rename reads as a drop and an add): not listed.
func (rc *reconciled) dropped(n int) []string {
	paired := make(map[string]bool, len(rc.toSaved))
	for _, s := range rc.toSaved {
		paired[s] = true
	}
	added := len(rc.toSaved) < n
	var out []string
	for i, c := range rc.cols {
		if paired[c.Name] {
			continue
		}
		if known := i < len(rc.saved.Columns) && rc.saved.Columns[i].Attnum != 0; known || !added {
			out = append(append(out, c.Name), rc.saved.Formerly[c.Name]...)
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
