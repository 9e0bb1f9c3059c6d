package filter

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
)

// misfit is why a where expression cannot decide a table's rows: it names
// a column the table lacks (column), or it does not compile against the
// table's column types (msg, at line and col of the expression when known).
type misfit struct {
	column    string
	msg       string
	line, col int
	known     bool
}

// fit checks p against a table with columns cols of types ts (nil: only
// the names are checked): every column p names statically must exist, and p
// must compile to a boolean with row, before and after typed as the table's
// rows. nil when p fits. A NULL (nil) of any column still passes: that is
// for the run-time check (e.g. NULL + 1).
func (p *predicate) fit(cols []string, ts []ColumnType) *misfit {
	for _, v := range exprVars {
		for _, c := range p.cols[v] {
			if !contains(cols, c) {
				return &misfit{column: c}
			}
		}
	}
	_, err := expr.Compile(p.src, expr.Env(whereEnv(cols, ts)), expr.AsBool(), expr.DisableBuiltin("now"))
	if err == nil {
		return nil
	}
	line, col, msg, known := exprErrorPos(err)
	return &misfit{msg: firstLine(msg), line: line, col: col, known: known}
}

// detail says what is wrong on table ("schema.table"), one line.
func (m *misfit) detail(p *predicate, table string, cols []string, ts []ColumnType) string {
	if m.column != "" {
		return fmt.Sprintf("column %q does not exist in %s (columns: %s)", m.column, table, strings.Join(cols, ", "))
	}
	s := fmt.Sprintf("does not type-check against %s: %s", table, m.msg)
	if used := usedColumnTypes(p, cols, ts); used != "" {
		s += " (" + used + ")"
	}
	return s
}

// fix is the one-line fix of m.
func (m *misfit) fix() string {
	switch {
	case m.column != "":
		return fmt.Sprintf("fix the column name, or narrow the rule's tables; get(row, %q) reads a column a table may lack as nil", m.column)
	case strings.Contains(m.msg, "expected bool"):
		return "the expression must be true or false, e.g. row.amount > 100"
	case strings.Contains(m.msg, "mismatched types"):
		return `compare a column with a value of its type (row.status == "paid", row.amount > 100), or convert it: int(row.code) > 5`
	}
	return "see https://expr-lang.org/docs/language-definition and the column types above"
}

// usedColumnTypes describes the types of the columns p names: "v is text:
// string in expressions; n is int4: int in expressions".
func usedColumnTypes(p *predicate, cols []string, ts []ColumnType) string {
	if ts == nil {
		return ""
	}
	seen := map[string]bool{}
	var parts []string
	for _, v := range exprVars {
		for _, c := range p.cols[v] {
			i := indexOf(cols, c)
			if seen[c] || i < 0 || i >= len(ts) {
				continue
			}
			seen[c] = true
			parts = append(parts, fmt.Sprintf("%s is %s: %s in expressions", c, typeText(ts[i]), exprTypeName(ts[i])))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// whereReached reports whether r's where expression is ever evaluated for
// the table "schema.table": for some operation of r other than truncate
// (where does not apply to truncates), no earlier rule naming the table
// decides every change first (one without a where, or any for truncates).
func (rs *Rules) whereReached(r *Rule, name string) bool {
	return rs.whereOps(r, name) != 0
}

// whereProblem checks rule r's where expression against table t, when the
// rule can evaluate it for t; nil when it fits. The cache, keyed by rule
// and the table's column names and types, spares compiling one expression
// for many alike tables (partitions).
func (rs *Rules) whereProblem(r *Rule, t Table, cache map[string]*misfit) *Error {
	if !rs.whereReached(r, t.QualifiedName()) {
		return nil
	}
	key := fitKey(r, t)
	m, ok := cache[key]
	if !ok {
		m = r.where.fit(t.Columns, t.Types)
		cache[key] = m
	}
	if m == nil {
		return nil
	}
	sep := " " // "rules[0].where does not type-check against ..."
	if m.column != "" {
		sep = ": " // "rules[0].where: column "x" does not exist in ..."
	}
	msg := fmt.Sprintf("rules[%d].where%s%s", r.Index, sep, m.detail(r.where, t.QualifiedName(), t.Columns, t.Types))
	return &Error{File: rs.File, Pos: r.whereAt(m.line, m.col, m.known), Msg: msg, Fix: m.fix()}
}

// fitKey identifies a fit check: the rule and the table's column names and
// types.
func fitKey(r *Rule, t Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", r.Index)
	for i, c := range t.Columns {
		b.WriteString("\x00" + c)
		if i < len(t.Types) {
			fmt.Fprintf(&b, "\x01%s\x01%d", t.Types[i].TypeName, t.Types[i].Kind)
		}
	}
	return b.String()
}

// CheckWhere checks every rule's where expression against the tables it
// names (tables as TablesWithTypes lists them; without Types only column
// names are checked): each column it names must exist in the table, and it
// must compile to a boolean with the table's column types (no "text > 5",
// no "row.n + 1"). A rule that earlier rules keep from ever deciding a
// table is not checked against it. It returns Errors (file:line:column, the
// rule, the table, a fix), nil when every expression fits. walrelay run
// refuses such a file at start and on SIGHUP; a table that does not exist
// yet is checked when it appears (a change of it that the rule cannot
// decide halts the pipeline, see Apply). It also refuses a masked column
// that none of the tables a rule names has (maskProblems), and what would
// publish a table's records under a wrong key (keyRefusals: an excluded
// primary key column, a key column the table lacks or, when the rule
// publishes updates or deletes, that its replica identity lacks). Safe from
// any goroutine.
func (rs *Rules) CheckWhere(tables []Table) error {
	c := &collector{file: rs.File}
	cache := map[string]*misfit{}
	for _, r := range rs.Rules {
		var matched []Table
		for _, t := range tables {
			if !r.matches(t.QualifiedName()) {
				continue
			}
			matched = append(matched, t)
			if e := rs.whereProblem(r, t, cache); e != nil && len(c.errs) < maxErrors {
				c.errs = append(c.errs, e)
			}
			for _, e := range rs.keyRefusals(r, t) { // keyfit.go
				if len(c.errs) < maxErrors {
					c.errs = append(c.errs, e)
				}
			}
		}
		nowhere := withSkip(nil, rs.maskedNowhere(r, matched))
		for _, e := range append(rs.maskProblems(r, matched), rs.resumeProblems(r, matched, nowhere)...) { // lineage_guard.go
			if len(c.errs) < maxErrors {
				c.errs = append(c.errs, e)
			}
		}
	}
	return c.err()
}
