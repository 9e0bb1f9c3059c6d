package filter

import (
	"context"
	"fmt"
)

// RuleMatch is what one rule matches in the database, for walrelay check.
type RuleMatch struct {
	Rule   int      // index in rules:, or -1 for the default
	Pos    Pos      // the rule's position (zero for the default)
	Tables []string // tables the rule names ("schema.table"); for the default, the tables it captures
	Drop   bool     // the rule drops the changes it decides (drop: true): it captures nothing
	// Problems are mistakes only the catalog reveals, each with its
	// position and fix, that walrelay check FAILs and run only warns about
	// at start (or halts for, at the first change they concern).
	Problems []*Error
	// Warnings are rules that work as written but may lose or publish
	// what a user likely does not expect: a where expression that deletes
	// cannot pass (identityProblems), a masked or excluded column some
	// tables the rule names lack (a glob's other tables: it is taken where
	// it exists), a rule that names no existing table, a key column outside
	// a replica identity that harms nothing (keyWarnings), a rule an
	// earlier one decides for (rowShadow, only its
	// truncates or an outbox rule's non-inserts left to it). walrelay
	// check prints them as warnings (exit 0), run logs them at start and on
	// SIGHUP.
	Warnings []*Error
	// Refused are the mistakes for which walrelay run refuses the file, at
	// start and on SIGHUP (CheckWhere): a where expression that does not
	// fit a table the rule names, a masked column none of them has, what
	// would publish records under a wrong key (keyRefusals). Not repeated
	// in Problems.
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
// and the problems they show, sorted as walrelay run treats them: in
// Refused, what run refuses the file for (CheckWhere): where expressions
// that do not fit a named table, a masked column none of them has, what
// would publish wrong record keys (keyRefusals: an excluded primary key
// column, a key column a named table lacks, or its replica identity lacks
// while the rule publishes updates or deletes), and at a start from a
// checkpoint a masked or excluded column a table named exactly lacks that
// the lineage cannot account for (resumeProblems); in Problems, what run
// warns about but that halts: outbox columns that a named table lacks; in
// Warnings, what run warns about and streams as written: excluded or
// masked columns that some named tables lack (columnsMissing), a rule that
// names no existing table, a key column outside a replica identity that
// harms nothing (keyWarnings), a rule that an earlier
// rule without a where expression decides for first, leaving it only
// truncates (an outbox rule placed after a plain rule for its table:
// rowShadow), and a where expression that reads, on a delete's (or a key
// change's) old row, a column outside the replica identity
// (identityProblems: such deletes are dropped). A last entry (Rule -1)
// lists the tables captured by default: capture. A new table that matches
// a glob later is picked up by the running relay; this shows the catalog
// as it is now.
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
			m.Warnings = append(m.Warnings, rs.columnsMissing(r, t, skip)...)
			m.Refused = append(m.Refused, rs.keyRefusals(r, t)...) // keyfit.go
			m.Problems = append(m.Problems, rs.tableProblems(r, t)...)
			m.Warnings = append(m.Warnings, rs.keyWarnings(r, t)...)
			m.Warnings = append(m.Warnings, rs.identityProblems(r, t)...)
			if e := rs.whereProblem(r, t, cache); e != nil {
				m.Refused = append(m.Refused, e)
			}
			if by := rs.rowShadow(r, t.QualifiedName()); by != nil { // run warns: a warning (audit auditreadme #4)
				m.Warnings = append(m.Warnings, rs.shadowProblem(r, by, t.QualifiedName()))
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
			m.Warnings = append(m.Warnings, e) // run takes it: a glob's tables may come later
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

// missingColumn is the report of column col of rule r (a "what" column:
// excluded, masked, key, outbox) that table t lacks, at position p.
func (rs *Rules) missingColumn(r *Rule, t Table, p Pos, what, col string) *Error {
	return &Error{File: rs.File, Pos: p,
		Msg: fmt.Sprintf("rules[%d]: %s column %q does not exist in %s (columns: %v)", r.Index, what, col, t.QualifiedName(), t.Columns),
		Fix: "fix the column name, or narrow the rule's tables"}
}

// columnsMissing reports the excluded and masked columns of rule r that
// table t lacks: a warning, since walrelay run takes the rule (it hides the
// column where a table has it; a masked column none of the rule's tables
// has is refused, maskProblems). A column in refused (that maskProblems or
// resumeProblems refuses) is not listed again, nor one the column lineage
// knows as a former name (lineageAllows).
func (rs *Rules) columnsMissing(r *Rule, t Table, refused map[string]bool) []*Error {
	var out []*Error
	for _, k := range []struct {
		what string
		cols []string
	}{{"excluded", r.Exclude}, {"masked", r.Mask}} {
		for _, c := range k.cols {
			if !contains(t.Columns, c) && !refused[c] && !rs.lineageAllows(r, t, c) {
				out = append(out, rs.missingColumn(r, t, r.colPos[c], k.what, c))
			}
		}
	}
	return out
}

// tableProblems checks rule r's outbox columns against table t (the key
// columns and an excluded key column are keyRefusals, keyfit.go).
func (rs *Rules) tableProblems(r *Rule, t Table) []*Error {
	var out []*Error
	if o := r.Outbox; o != nil {
		for _, c := range append([]string{o.ID, o.Key, o.Payload, o.Type}, o.topic.vars()...) {
			if c != "" && !contains(t.Columns, c) {
				out = append(out, rs.missingColumn(r, t, o.Pos, "outbox", c))
			}
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
