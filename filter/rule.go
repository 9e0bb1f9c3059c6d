package filter

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

var ruleKeys = []string{"tables", "operations", "columns", "key", "where", "topic", "drop", "outbox"}

// rule reads one entry of rules:; nil when it has mistakes (all reported).
func (l *loader) rule(n *yaml.Node, i int) *Rule {
	where := fmt.Sprintf("rules[%d]", i)
	fs, ok := l.fields(n, where, ruleKeys...)
	if !ok {
		return nil
	}
	r := &Rule{Index: i, Pos: pos(n), ops: defaultOps}
	good := l.required(fs, n, where, "tables")
	steps := []func(map[string]field, *Rule, string) bool{
		l.ruleTables, l.ruleDrop, l.ruleOps, l.ruleColumns, l.ruleKey, l.ruleWhere, l.ruleTopic, l.ruleOutbox,
	}
	for _, step := range steps {
		good = step(fs, r, where) && good
	}
	good = l.ruleConflicts(fs, where) && good
	if !good {
		return nil
	}
	return r
}

func (l *loader) ruleTables(fs map[string]field, r *Rule, where string) bool {
	f, ok := fs["tables"]
	if !ok {
		return false
	}
	tables, nodes, ok := l.strList(f.val, where+".tables")
	for j, t := range tables {
		p, err := compilePattern(t, true)
		if err != nil {
			l.c.add(pos(nodes[j]), patternFix(t), "%s.tables: %v", where, err)
			ok = false
			continue
		}
		p.pos = pos(nodes[j])
		r.Tables, r.pats = append(r.Tables, t), append(r.pats, p)
	}
	return ok
}

func (l *loader) ruleDrop(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["drop"]
	if !has {
		return true
	}
	v, ok := l.boolean(f.val, where+".drop")
	r.Drop = v
	if v {
		r.ops = opAll // a drop rule without operations drops everything, truncates too
	}
	return ok
}

func (l *loader) ruleOps(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["operations"]
	if !has {
		return true
	}
	ops, nodes, ok := l.strList(f.val, where+".operations")
	if !ok {
		return false
	}
	r.ops = 0
	for j, o := range ops {
		bit, known := opNames[o]
		if !known {
			l.c.add(pos(nodes[j]), "use insert, update, delete or truncate", "%s.operations: unknown operation %q", where, o)
			ok = false
			continue
		}
		r.ops |= bit
		r.Operations = append(r.Operations, o)
	}
	return ok
}

func (l *loader) ruleColumns(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["columns"]
	if !has {
		return true
	}
	where += ".columns"
	cs, ok := l.fields(f.val, where, "exclude", "mask")
	if !ok {
		return false
	}
	if len(cs) == 0 {
		l.c.add(pos(f.val), "add exclude: [...] or mask: [...], or remove columns", "%s: empty", where)
		return false
	}
	r.colPos = map[string]Pos{}
	if e, has := cs["exclude"]; has {
		var nodes []*yaml.Node
		r.Exclude, nodes, ok = l.strList(e.val, where+".exclude")
		for j, c := range r.Exclude {
			r.colPos[c] = pos(nodes[j])
		}
	}
	if m, has := cs["mask"]; has {
		var nodes []*yaml.Node
		var mok bool
		r.Mask, nodes, mok = l.strList(m.val, where+".mask")
		ok = ok && mok
		r.maskPos = pos(m.val)
		for j, c := range r.Mask {
			r.colPos[c] = pos(nodes[j])
			if contains(r.Exclude, c) {
				l.c.add(pos(nodes[j]), "remove it from one of the lists", "%s: column %q is both excluded and masked", where, c)
				ok = false
			}
		}
	}
	return ok
}

func (l *loader) ruleWhere(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["where"]
	if !has {
		return true
	}
	src, ok := l.str(f.val, where+".where")
	if !ok {
		return false
	}
	p, err := compileWhere(src)
	if err != nil {
		line, col, msg, known := exprErrorPos(err)
		l.c.add(l.exprPos(f.val, line, col, known), whereFix(msg), "%s.where: %s", where, firstLine(msg))
		return false
	}
	r.Where, r.where = src, p
	r.whereAt = exprPosFunc(f.val, l.lines)
	return true
}

// exprPos maps a position inside an expression to the file (exprPosIn).
func (l *loader) exprPos(n *yaml.Node, line, col int, known bool) Pos {
	return exprPosIn(n, l.lines, line, col, known)
}

// exprPosFunc returns exprPosIn for the scalar n of a file with lines, for
// positions found after loading (a where expression that does not
// type-check against a table).
func exprPosFunc(n *yaml.Node, lines []string) func(line, col int, known bool) Pos {
	return func(line, col int, known bool) Pos { return exprPosIn(n, lines, line, col, known) }
}

// exprPosIn maps a position inside the expression of scalar n to the file
// whose lines are lines: exact for a one-line plain or quoted scalar
// (without escapes) and for a literal block scalar (|); the scalar's own
// position otherwise.
func exprPosIn(n *yaml.Node, lines []string, line, col int, known bool) Pos {
	p := pos(n)
	if !known {
		return p
	}
	switch n.Style {
	case 0:
		if line == 0 {
			p.Column += col
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line == 0 && !strings.ContainsAny(n.Value, "\n\\'\"") {
			p.Column += col + 1
		}
	case yaml.LiteralStyle:
		p.Line += line + 1
		p.Column = 0
		if indent, ok := blockIndent(lines, n.Line); ok {
			p.Column = indent + col + 1
		}
	}
	return p
}

// blockIndent returns the indentation of the block scalar whose indicator
// (|) is on 1-based line at: that of its first non-blank line, which YAML
// strips from every line of the value.
func blockIndent(lines []string, at int) (int, bool) {
	for i := at; i < len(lines); i++ {
		if text := lines[i]; strings.TrimSpace(text) != "" {
			return len(text) - len(strings.TrimLeft(text, " ")), true
		}
	}
	return 0, false
}

func whereFix(msg string) string {
	switch {
	case strings.Contains(msg, "unknown name"):
		return "the variables are row, before, after and op; columns are row.column"
	case strings.Contains(msg, "expected bool"):
		return "the expression must be true or false, e.g. row.amount > 100"
	}
	return "see https://expr-lang.org/docs/language-definition"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// ruleKey reads key: the columns that make the record key instead of the
// primary key (Debezium's message.key.columns); not excluded ones.
func (l *loader) ruleKey(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["key"]
	if !has {
		return true
	}
	where += ".key"
	cols, nodes, ok := l.strList(f.val, where)
	if !ok {
		return false
	}
	if len(cols) == 0 {
		l.c.add(pos(f.val), "list the key columns, e.g. key: [tenant_id, id], or remove key", "%s: empty", where)
		return false
	}
	r.Key, r.keyPos = cols, map[string]Pos{}
	for j, c := range cols {
		r.keyPos[c] = pos(nodes[j])
		if contains(r.Exclude, c) {
			l.c.add(pos(nodes[j]), "remove it from columns.exclude or from key", "%s: column %q is excluded, so it cannot be part of the key", where, c)
			ok = false
		}
	}
	return ok
}

func (l *loader) ruleTopic(fs map[string]field, r *Rule, where string) bool {
	f, has := fs["topic"]
	if !has {
		return true
	}
	var ok bool
	r.Topic, r.topic, ok = l.topicKey(f.val, where+".topic", []string{"schema", "table"})
	return ok
}

// ruleConflicts reports keys that make no sense together.
func (l *loader) ruleConflicts(fs map[string]field, where string) bool {
	ok := true
	conflict := func(a, b string) {
		if _, hasA := fs[a]; hasA {
			if fb, hasB := fs[b]; hasB {
				l.c.add(pos(fb.key), "remove "+b+" or "+a, "%s: %s cannot be used with %s", where, b, a)
				ok = false
			}
		}
	}
	for _, k := range []string{"columns", "key", "topic", "outbox"} {
		conflict("drop", k)
	}
	for _, k := range []string{"columns", "key", "topic", "operations"} {
		conflict("outbox", k)
	}
	return ok
}
