package filter

import (
	"context"
	"fmt"

	"github.com/walrelay/walrelay/internal/pgident"
)

// RuleMatch is what one rule matches in the database, for walrelay check.
type RuleMatch struct {
	Rule     int      // index in rules:, or -1 for the default
	Pos      Pos      // the rule's position (zero for the default)
	Tables   []string // tables the rule names ("schema.table"); for the default, the tables it captures
	Drop     bool     // the rule drops the changes it decides (drop: true): it captures nothing
	Problems []*Error // mistakes only the catalog reveals, each with its position and fix
	// Warnings are rules that work as written but lose changes a user
	// likely expects: a where expression that deletes cannot pass
	// (identityProblems). walrelay check prints them as warnings, run logs
	// them at start and on SIGHUP.
	Warnings []*Error
	// Refused are the mistakes for which walrelay run refuses the file, at
	// start and on SIGHUP (CheckWhere): a where expression that does not
	// fit a table the rule names, a masked column none of them has. Not
	// repeated in Problems.
	Refused []*Error
}

// Describe reads the catalog through q (TablesWithTypes) and returns
// DescribeTables of it.
func Describe(ctx context.Context, q Querier, rs *Rules) ([]RuleMatch, error) {
	tables, err := TablesWithTypes(ctx, q)
	if err != nil {
		return nil, err
	}
	return rs.DescribeTables(tables), nil
}

// DescribeTables reports, for each rule, the tables it names among tables
// and the problems they show: in Refused, where expressions that do not fit
// a named table (CheckWhere); in Problems, excluded, masked, key or outbox
// columns that a named table lacks, an excluded primary key column (it
// would change the record key), a key column outside the replica identity,
// a rule that never decides a row change of a named table because an earlier
// rule without a where expression decides them first (an outbox rule placed
// after a plain rule for its table: rowShadow), and rules that name no
// existing table; in Warnings, a where expression that reads, on a delete's
// (or a key change's) old row, a column outside the replica identity
// (identityProblems: such deletes are dropped). A last entry (Rule -1) lists the
// tables captured by default: capture. A new table that matches a glob
// later is picked up by the running relay; this shows the catalog as it
// is now.
func (rs *Rules) DescribeTables(tables []Table) []RuleMatch {
	out := make([]RuleMatch, 0, len(rs.Rules)+1)
	cache := map[string]*misfit{}
	for _, r := range rs.Rules {
		m := RuleMatch{Rule: r.Index, Pos: r.Pos, Drop: r.Drop}
		var matched []Table
		for _, t := range tables {
			if r.matches(t.QualifiedName()) {
				matched = append(matched, t)
			}
		}
		refusedCols := map[string]bool{} // reported once, in Refused, not again per table
		for _, c := range rs.maskedNowhere(r, matched) {
			refusedCols[c] = true
		}
		for _, t := range matched {
			m.Tables = append(m.Tables, t.QualifiedName())
			skip := withSkip(refusedCols, rs.resumeMissing(r, t, matched, refusedCols)) // refused below: lineage_guard.go
			m.Problems = append(m.Problems, rs.tableProblems(r, t, skip)...)
			m.Warnings = append(m.Warnings, rs.identityProblems(r, t)...)
			if e := rs.whereProblem(r, t, cache); e != nil {
				m.Refused = append(m.Refused, e)
			}
			if by := rs.rowShadow(r, t.QualifiedName()); by != nil {
				m.Problems = append(m.Problems, rs.shadowProblem(r, by, t.QualifiedName()))
			}
		}
		m.Refused = append(m.Refused, rs.maskProblems(r, matched)...)
		m.Refused = append(m.Refused, rs.resumeProblems(r, matched, refusedCols)...)
		if len(m.Tables) == 0 {
			e := &Error{File: rs.File, Pos: r.Pos,
				Msg: fmt.Sprintf("rules[%d] names no existing table (%v)", r.Index, r.Tables),
				Fix: "check the schema and table names; glob rules also pick up tables created later"}
			if hint := r.oldReadingHint(tables); hint != "" { // describe_hint.go
				e.Msg += ": " + hint
				e.Fix = "write the table as the hint says (quote the schema in the rules file: '\"x.y\".z')"
			}
			m.Problems = append(m.Problems, e)
		}
		out = append(out, m)
	}
	def := RuleMatch{Rule: -1}
	if rs.Default == DefaultCapture {
		for _, t := range tables {
			if rs.named(t.QualifiedName()) < 0 {
				def.Tables = append(def.Tables, t.QualifiedName())
			}
		}
	}
	return append(out, def)
}

// named returns the index of the first rule naming the table, or -1.
func (rs *Rules) named(name string) int {
	for _, r := range rs.Rules {
		if r.matches(name) {
			return r.Index
		}
	}
	return -1
}

// tableProblems checks rule r's column references other than its where
// expression's (whereProblem) against table t. A masked column in
// refusedMask, which no table of the rule has (maskProblems refuses it), is
// not listed again for t, nor is an excluded or masked column in it that
// resumeProblems refuses for t.
func (rs *Rules) tableProblems(r *Rule, t Table, refused map[string]bool) []*Error {
	var out []*Error
	missing := func(p Pos, what, col string) {
		out = append(out, &Error{File: rs.File, Pos: p,
			Msg: fmt.Sprintf("rules[%d]: %s column %q does not exist in %s (columns: %v)", r.Index, what, col, t.QualifiedName(), t.Columns),
			Fix: "fix the column name, or narrow the rule's tables"})
	}
	for _, c := range r.Exclude {
		if !contains(t.Columns, c) && !refused[c] && !rs.lineageAllows(r, t, c) {
			missing(r.colPos[c], "excluded", c)
		} else if contains(t.Key, c) {
			out = append(out, &Error{File: rs.File, Pos: r.colPos[c],
				Msg: fmt.Sprintf("rules[%d]: excluded column %q is part of %s's primary key; the record key would lose it", r.Index, c, t.QualifiedName()),
				Fix: "mask it instead, or keep it"})
		}
	}
	for _, c := range r.Mask {
		if !contains(t.Columns, c) && !refused[c] && !rs.lineageAllows(r, t, c) {
			missing(r.colPos[c], "masked", c)
		}
	}
	out = append(out, rs.keyProblems(r, t, missing)...)
	if o := r.Outbox; o != nil {
		for _, c := range append([]string{o.ID, o.Key, o.Payload, o.Type}, o.topic.vars()...) {
			if c != "" && !contains(t.Columns, c) {
				missing(o.Pos, "outbox", c)
			}
		}
	}
	return out
}

// keyProblems checks rule r's key columns against table t: each must
// exist, and be in the replica identity, or a delete's old row lacks it
// and the delete's record key has it null (another key than its row's
// other events, so another partition, and a tombstone that compacts
// nothing), and an update of it comes without the old row, so it is not
// published as a key change.
func (rs *Rules) keyProblems(r *Rule, t Table, missing func(Pos, string, string)) []*Error {
	var out []*Error
	for _, c := range r.Key {
		switch {
		case !contains(t.Columns, c):
			missing(r.keyPos[c], "key", c)
		case !contains(t.Identity, c):
			out = append(out, &Error{File: rs.File, Pos: r.keyPos[c],
				Msg: fmt.Sprintf("rules[%d]: key column %q of %s is not in its replica identity (%s), so a delete's key would have it null and an update of it would not be a key change: both would leave the row's events under two keys",
					r.Index, c, t.QualifiedName(), identityText(t)),
				Fix: fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL; or key by replica identity columns only", pgident.SQL(t.Schema, t.Name))})
		}
	}
	return out
}

// identityText describes t's replica identity for a message.
func identityText(t Table) string {
	switch t.IdentityKind {
	case "n":
		return "NOTHING"
	case "i":
		return fmt.Sprintf("index on %v", t.Identity)
	}
	if len(t.Key) == 0 {
		return "none: the table has no primary key" // auditc7: "primary key []" read as a key
	}
	return fmt.Sprintf("primary key %v", t.Key)
}
