package filter

import (
	"errors"
	"fmt"
	"strings"
)

// Pos is a position in the rules file: 1-based line and column (0 when
// unknown, e.g. for YAML syntax errors, which yaml.v3 reports by line only).
type Pos struct {
	Line, Column int
}

// String renders "line:column", or "line" when the column is unknown.
func (p Pos) String() string {
	if p.Column == 0 {
		return fmt.Sprint(p.Line)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// Error is one mistake in a rules file: where it is, what is wrong and a
// one-line fix. Its text is "file:line:column: msg (fix)".
type Error struct {
	File string
	Pos  Pos
	Msg  string
	Fix  string
}

func (e *Error) Error() string {
	s := e.Message()
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// Message is the error without its fix: "file:line:col: msg". For output
// that shows the fix on a line of its own, such as `walrelay check`.
func (e *Error) Message() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Pos.Line > 0 {
			b.WriteString(":" + e.Pos.String())
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every mistake found in one rules file, in file order. errors.As
// with a *Error target finds the first.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the single errors to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors bounds how many mistakes one load reports.
const maxErrors = 20

// collector accumulates errors while the rules file is checked.
type collector struct {
	file string
	errs Errors
}

func (c *collector) add(p Pos, fix, format string, args ...any) {
	if len(c.errs) < maxErrors {
		c.errs = append(c.errs, &Error{File: c.file, Pos: p, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
}

// err returns the collected errors, or nil.
func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// FirstError returns the first *Error in err, or nil.
func FirstError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// RuleError is a rule that cannot decide a change, found while deciding it
// (Apply): its where expression names a column the change's table lacks or
// does not type-check against the table's columns (the table changed under
// the rule, or appeared after the file was checked), its evaluation failed
// on the change's values (e.g. NULL + 1), or an outbox rule cannot route
// the row. The caller must halt rather than skip the change. Error says
// what to fix in the rules file; what happens next (the process exits, or
// restarts and reads the file again) is for the caller to add.
type RuleError struct {
	File   string
	Rule   int    // index in rules:
	Line   int    // the rule's line
	Where  string // the rule's where expression; "" when the error is not about it
	Table  string // "schema.table"
	Event  string // the change's event ID
	Column string // the column the table lacks, when that is the problem
	Err    error  // what went wrong; its first line is shown
	Fix    string // what to change in the rules file
}

func (e *RuleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "filter: %s rules[%d] (line %d)", e.File, e.Rule, e.Line)
	if e.Where != "" {
		fmt.Fprintf(&b, " where %q", e.Where)
	}
	fmt.Fprintf(&b, " on %s event %s: %s", e.Table, e.Event, firstLine(e.Err.Error()))
	if e.Fix != "" {
		b.WriteString(" (" + e.Fix + ")")
	}
	return b.String()
}

// Unwrap returns Err.
func (e *RuleError) Unwrap() error { return e.Err }
