package filter

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/file"
)

// MaskedText is what logs, errors and `walrelay status` show instead of a
// value of a masked column.
const MaskedText = "(masked)"

// MaskedColumns returns the columns that the rules naming table
// ("schema.table") mask, sorted, each once; nil when none does (or rs is
// nil: no rules file).
func (rs *Rules) MaskedColumns(table string) []string {
	if rs == nil {
		return nil
	}
	var out []string
	for _, r := range rs.Rules {
		if len(r.Mask) > 0 && r.matches(table) {
			out = append(out, r.Mask...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ExcludedColumns returns the columns that the rules naming table
// ("schema.table") exclude, sorted, each once; nil when none does (or rs is
// nil).
func (rs *Rules) ExcludedColumns(table string) []string {
	if rs == nil {
		return nil
	}
	var out []string
	for _, r := range rs.Rules {
		if len(r.Exclude) > 0 && r.matches(table) {
			out = append(out, r.Exclude...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// HideKey returns values, the text form of table's key columns (columns,
// in the same order), as logs and status may print them: the value of a
// column that MaskedColumns(table) names is MaskedText. With columns nil
// (not known), every value is MaskedText when the table has any masked
// column. values is not modified; nil stays nil.
func (rs *Rules) HideKey(table string, columns, values []string) []string {
	masked := rs.MaskedColumns(table)
	if len(masked) == 0 || values == nil {
		return values
	}
	out := slices.Clone(values)
	for i := range out {
		if columns == nil || i >= len(columns) || slices.Contains(masked, columns[i]) {
			out[i] = MaskedText
		}
	}
	return out
}

// withheldError replaces a where expression's run-time error on a table
// with masked or excluded columns: the expression engine quotes the
// operands in its message (int(SECRET) says SECRET), so only what comes
// from the rules file is kept: where in the expression it failed, the token
// there and the kind of failure. Nothing wraps the original message.
type withheldError struct {
	table string
	what  string // "masked", "excluded" or "masked or excluded"
	at    string // "line:column (`token`)" in the expression; "" if unknown
	kind  string // e.g. "invalid operation"; "" if it could not be told safely
}

func (e *withheldError) Error() string {
	var b strings.Builder
	b.WriteString("evaluation failed")
	if e.at != "" {
		b.WriteString(" at " + e.at)
	}
	if e.kind != "" {
		b.WriteString(": " + e.kind)
	}
	fmt.Fprintf(&b, "; the expression engine's message is withheld because it may quote values of %s's %s columns", e.table, e.what)
	return b.String()
}

// errorKind matches a message prefix that names a kind of failure and
// nothing else: lower-case words ("invalid operation", "runtime error").
var errorKind = regexp.MustCompile(`^[a-z]+( [a-z]+){0,3}$`)

// withhold returns err, the run-time error of predicate p on a change of
// table, as it may be shown: err itself when the table has no masked and
// no excluded column, else a withheldError. An excluded column is hidden
// from Kafka, so an error must not quote it either.
func (rs *Rules) withhold(p *predicate, table string, err error) error {
	what := hiddenKind(len(rs.MaskedColumns(table)) > 0, len(rs.ExcludedColumns(table)) > 0)
	if what == "" {
		return err
	}
	w := &withheldError{table: table, what: what}
	var fe *file.Error
	if !errors.As(err, &fe) {
		return w
	}
	if kind, _, found := strings.Cut(fe.Message, ":"); found && errorKind.MatchString(kind) {
		w.kind = kind
	}
	src := []rune(p.src)
	if fe.Line > 0 && fe.From >= 0 && fe.From < fe.To && fe.To <= len(src) {
		w.at = fmt.Sprintf("%d:%d (`%s`)", fe.Line, fe.Column+1, firstLine(string(src[fe.From:fe.To])))
	}
	return w
}

// hiddenKind names the kinds of hidden columns a table has for
// withheldError; "" when it has none.
func hiddenKind(masked, excluded bool) string {
	switch {
	case masked && excluded:
		return "masked or excluded"
	case masked:
		return "masked"
	case excluded:
		return "excluded"
	}
	return ""
}
