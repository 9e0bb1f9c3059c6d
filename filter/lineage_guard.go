package filter

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/pgident"
)

// GuardResume turns on, for a start from a checkpoint, the check of the
// tables the saved column lineage does not know (resumeProblems): it
// records the names now (read over q, by OID: a table renamed while
// walrelay was stopped is known under its new name) of the tables
// SeedLineage seeded, not of those this process added (TrackTables,
// observe), and of those saved with their shape only, the columns that
// may have moved to other names while walrelay was stopped (movedColumns,
// found by ReconcileLineage). Call it after SeedLineage and
// ReconcileLineage, before CheckWhere, and only when walrelay resumes from
// a checkpoint: a first start has published nothing, so a column a rule
// names that a table lacks is only warned about (Describe). A catalog that
// cannot be read is an error: without it every table would look unknown.
func (rs *Rules) GuardResume(ctx context.Context, q Querier) error {
	names, moved := map[string]bool{}, map[string]*movedColumns{}
	saved, complete := rs.lineage.savedTables()
	if len(saved) > 0 {
		oids := make([]uint32, 0, len(saved))
		for oid := range saved {
			oids = append(oids, oid)
		}
		slices.Sort(oids)
		rows, err := q.Query(ctx, savedNamesSQL, oids)
		if err != nil {
			return fmt.Errorf("postgres: reading the names of the tables of the column lineage: %w", err)
		}
		var (
			oid          int64
			schema, name string
		)
		if _, err := pgx.ForEachRow(rows, []any{&oid, &schema, &name}, func() error {
			qn := pgident.Format(schema, name)
			names[qn] = true
			if m := saved[uint32(oid)]; m != nil {
				moved[qn] = m
			}
			return nil
		}); err != nil {
			return fmt.Errorf("postgres: reading the names of the tables of the column lineage: %w", err)
		}
	}
	rs.fromSaved, rs.movedWhileStopped, rs.savedComplete = names, moved, complete
	return nil
}

// savedNamesSQL reads the OID, schema and name of the tables $1.
const savedNamesSQL = `SELECT c.oid::int8, n.nspname::text, c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[])`

// savedTables returns the tables seeded from a saved state, by OID, with
// the columns that may have moved in a shape-only one (tableLineage.moved),
// and whether that state had every captured table (LineageState.Complete);
// none for nil l.
func (l *lineage) savedTables() (map[uint32]*movedColumns, bool) {
	if l == nil {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[uint32]*movedColumns{}
	for oid, h := range l.tables {
		if h.saved {
			out[oid] = h.moved
		}
	}
	return out, l.seededComplete
}

// resumeMissing returns the columns rule r masks or excludes of table t
// (one of matched, the tables r names) that walrelay cannot account for at
// a start from a checkpoint (GuardResume), whose values could be published
// in clear:
//
//   - for a table saved with its shape only whose columns moved while
//     walrelay was stopped (movedColumns: renamed, swapped, or a column
//     re-added under the old name), under any rule: a masked or excluded
//     column that is a suspect, unless every column that may now hold its
//     values is masked or excluded by r too (the fix);
//   - for a table the saved lineage has no entry of, when that lineage did
//     not have every captured table (an older walrelay's, or none: lost),
//     and r names t exactly (a pattern rule over many tables may
//     legitimately name columns some of them lack): a column t lacks, which
//     may have been renamed while walrelay was stopped, unless accounted
//     for: within each list (columns.mask, then columns.exclude), a column t
//     lacks is balanced by one of the list that t has and another table of
//     the rule lacks (with no other table, any t has): a list that names
//     columns per table (email for users, card for orders), or names the
//     renamed column's new name too (the fix).
//
// skip are columns already refused (maskedNowhere). nil when all are
// accounted for.
func (rs *Rules) resumeMissing(r *Rule, t Table, matched []Table, skip map[string]bool) []string {
	if rs.fromSaved == nil {
		return nil
	}
	if m := rs.movedWhileStopped[t.QualifiedName()]; m != nil {
		return m.uncovered(r, skip)
	}
	if rs.fromSaved[t.QualifiedName()] || rs.savedComplete || !r.namesExactly(t.QualifiedName()) {
		return nil
	}
	var others []Table
	for _, o := range matched {
		if o.QualifiedName() != t.QualifiedName() {
			others = append(others, o)
		}
	}
	var out []string
	for _, list := range [][]string{r.Mask, r.Exclude} {
		var missing []string
		own := 0
		for _, c := range list {
			switch {
			case skip[c]:
			case !contains(t.Columns, c):
				missing = append(missing, c)
			case len(others) == 0 || slices.ContainsFunc(others, func(o Table) bool { return !contains(o.Columns, c) }):
				own++ // t's own: another table of the rule lacks it
			}
		}
		if len(missing) > own {
			out = append(out, missing...)
		}
	}
	return out
}

// uncovered returns the columns r masks or excludes that are suspects of
// m while a column that may hold their values is neither masked nor
// excluded by r; skip are columns already refused.
func (m *movedColumns) uncovered(r *Rule, skip map[string]bool) []string {
	hidden := func(c string) bool { return contains(r.Mask, c) || contains(r.Exclude, c) }
	if !slices.ContainsFunc(m.Holders, func(c string) bool { return !hidden(c) }) {
		return nil
	}
	var out []string
	for _, list := range [][]string{r.Mask, r.Exclude} {
		for _, c := range list {
			if !skip[c] && contains(m.Suspect, c) && !contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// resumeProblems reports, for each table of matched (see resumeMissing),
// the columns rule r masks or excludes that it lacks, one error each:
// walrelay run refuses the rules file for them at a start from a
// checkpoint (CheckWhere), and walrelay check FAILs (Refused).
func (rs *Rules) resumeProblems(r *Rule, matched []Table, skip map[string]bool) []*Error {
	var out []*Error
	for _, t := range matched {
		for _, c := range rs.resumeMissing(r, t, matched, skip) {
			out = append(out, rs.resumeError(r, t.QualifiedName(), c, rs.movedWhileStopped[t.QualifiedName()]))
		}
	}
	return out
}

// resumeError is resumeProblems' error for column c of table; moved: the
// table is known by its shape only and its columns moved (movedColumns).
func (rs *Rules) resumeError(r *Rule, table, c string, moved *movedColumns) *Error {
	kind, list, shown := "masks", "mask", "unmasked"
	if !contains(r.Mask, c) {
		kind, list, shown = "excludes", "exclude", "in plain text"
	}
	if moved != nil {
		var open []string
		for _, h := range moved.Holders {
			if !contains(r.Mask, h) && !contains(r.Exclude, h) {
				open = append(open, h)
			}
		}
		return &Error{File: rs.File, Pos: r.colPos[c],
			Msg: fmt.Sprintf("rules[%d] %s column %q of %s, whose columns changed while walrelay was stopped (renamed, swapped or "+
				"added: %v may now hold its values), and walrelay saw no change of the table, so its lineage has the column names "+
				"in order only and cannot tell where %q went; the values would be published %s under %v",
				r.Index, kind, c, table, moved.Holders, c, shown, open),
			Fix: fmt.Sprintf("%s %v too in columns.%s of rules[%d] (or columns.exclude), at least for this start; or take %s out "+
				"of the rule if that is what you mean", list, open, list, r.Index, table)}
	}
	return &Error{File: rs.File, Pos: r.colPos[c],
		Msg: fmt.Sprintf("rules[%d] %s column %q, which %s does not have, and walrelay has no column lineage of %s from before "+
			"this start (a data_dir of a walrelay built before commit 10d078a of 2026-11-28, or a lineage that was lost), so it cannot "+
			"tell whether the column was renamed while walrelay was stopped (its values would then be published %s under the new name) "+
			"or dropped (or never was one of its columns)", r.Index, kind, c, table, table, shown),
		Fix: fmt.Sprintf("if it was renamed, add its new name to columns.%s of rules[%d] and keep %q "+
			"(changes from before the rename may still be ahead of the checkpoint); if it was dropped, remove %q from the rule, "+
			"or take %s out of the rule's tables if its other tables still have it", list, r.Index, c, c, table)}
}

// withSkip returns skip with the columns of more added (a copy if any).
func withSkip(skip map[string]bool, more []string) map[string]bool {
	if len(more) == 0 {
		return skip
	}
	out := make(map[string]bool, len(skip)+len(more))
	for c := range skip {
		out[c] = true
	}
	for _, c := range more {
		out[c] = true
	}
	return out
}
