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
// shape had and the catalog lacks, when the table gained columns too (a
// rename while stopped; ReconcileLineage found them). Call it after
// SeedLineage and ReconcileLineage, before CheckWhere, and only when
// walrelay resumes from a checkpoint: a first start has published nothing,
// so a column a rule names that a table lacks is only warned about
// (Describe). A catalog that cannot be read is an error: without it every
// table would look unknown.
func (rs *Rules) GuardResume(ctx context.Context, q Querier) error {
	names, gone := map[string]bool{}, map[string][]string{}
	if saved := rs.lineage.savedTables(); len(saved) > 0 {
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
			if g := saved[uint32(oid)]; len(g) > 0 {
				gone[qn] = g
			}
			return nil
		}); err != nil {
			return fmt.Errorf("postgres: reading the names of the tables of the column lineage: %w", err)
		}
	}
	rs.fromSaved, rs.goneWhileStopped = names, gone
	return nil
}

// savedNamesSQL reads the OID, schema and name of the tables $1.
const savedNamesSQL = `SELECT c.oid::int8, n.nspname::text, c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[])`

// savedTables returns the tables seeded from a saved state, by OID, with
// the columns gone from a shape-only one (tableLineage.gone); none for nil l.
func (l *lineage) savedTables() map[uint32][]string {
	if l == nil {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[uint32][]string{}
	for oid, h := range l.tables {
		if h.saved {
			out[oid] = h.gone
		}
	}
	return out
}

// resumeMissing returns the columns rule r masks or excludes that table t
// (one of matched, the tables r names) lacks and that walrelay cannot
// account for, at a start from a checkpoint (GuardResume) when the saved
// column lineage has no entry of t: a column renamed while walrelay was
// stopped (or before it kept a lineage) would be published under its new
// name, and without the lineage a rename cannot be told from a drop. Only
// for a table r names exactly: a pattern rule over many tables may
// legitimately name columns some of them lack. Also, under any rule, the
// columns of a table saved with its shape only (no change of it seen) that
// the shape had and the catalog lacks while the table gained others
// (goneWhileStopped): a rename while stopped, or a drop and an add. skip are columns already
// refused (maskedNowhere). Within each list (columns.mask, then
// columns.exclude), a column t lacks is accounted for by one of the list
// that t has and another table of the rule lacks (with no other table,
// any t has): a list that names columns per table (email for users, card
// for orders), or names the renamed column's new name too (the fix). nil
// when all are accounted for.
func (rs *Rules) resumeMissing(r *Rule, t Table, matched []Table, skip map[string]bool) []string {
	if rs.fromSaved == nil {
		return nil
	}
	known, gone := rs.fromSaved[t.QualifiedName()], rs.goneWhileStopped[t.QualifiedName()]
	if len(gone) == 0 && (known || !r.namesExactly(t.QualifiedName())) {
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
				if contains(gone, c) || !known && r.namesExactly(t.QualifiedName()) {
					missing = append(missing, c)
				}
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

// resumeProblems reports, for each table of matched (see resumeMissing),
// the columns rule r masks or excludes that it lacks, one error each:
// walrelay run refuses the rules file for them at a start from a
// checkpoint (CheckWhere), and walrelay check FAILs (Refused).
func (rs *Rules) resumeProblems(r *Rule, matched []Table, skip map[string]bool) []*Error {
	var out []*Error
	for _, t := range matched {
		for _, c := range rs.resumeMissing(r, t, matched, skip) {
			out = append(out, rs.resumeError(r, t.QualifiedName(), c, contains(rs.goneWhileStopped[t.QualifiedName()], c)))
		}
	}
	return out
}

// resumeError is resumeProblems' error for column c of table; gone: the
// table's saved shape had c (goneWhileStopped).
func (rs *Rules) resumeError(r *Rule, table, c string, gone bool) *Error {
	kind, list, shown := "masks", "mask", "unmasked"
	if !contains(r.Mask, c) {
		kind, list, shown = "excludes", "exclude", "in plain text"
	}
	never := " (or never was one of its columns)"
	why := fmt.Sprintf("which %s does not have, and walrelay has no column lineage of %s from before "+
		"this start (a data_dir of a walrelay built before commit 10d078a of 2026-11-28, or a lineage that was lost)", table, table)
	if gone {
		why = fmt.Sprintf("which %s had when walrelay stopped and has no more, while it gained other columns, and walrelay saw "+
			"no change of the table, so its lineage holds the column names only", table)
		never = ""
	}
	return &Error{File: rs.File, Pos: r.colPos[c],
		Msg: fmt.Sprintf("rules[%d] %s column %q, %s; it cannot tell "+
			"whether the column was renamed while walrelay was stopped (its values would then be published %s under the new name) "+
			"or dropped%s", r.Index, kind, c, why, shown, never),
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
