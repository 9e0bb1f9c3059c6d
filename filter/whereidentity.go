package filter

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/walrelay/walrelay/internal/pgident"
)

// identityProblems reports rule r's where expression reading, for a change
// whose old row PostgreSQL sends with the replica identity's columns only,
// a column outside t's replica identity: that column is nil there, so a
// delete the expression then rejects is dropped (no delete event, no
// tombstone) and consumers keep the row. Two cases: a delete (the
// expression's row and before are the old row), and an update that changes
// the key (published as a delete of the old key and a create; before is
// the old row). Nothing is reported for REPLICA IDENTITY FULL (the old row
// is whole) or NOTHING (PostgreSQL refuses such deletes; the
// replica-identity check says so), for drop and outbox rules (a rejected
// delete is then not dropped, or never published anyway), when earlier
// rules decide the operation first, or when op settles the expression for
// that operation (op == "delete" || ...).
func (rs *Rules) identityProblems(r *Rule, t Table) []*Error {
	if r.where == nil || r.Drop || r.Outbox != nil || t.IdentityKind == "f" || t.IdentityKind == "n" {
		return nil
	}
	open := rs.whereOps(r, t.QualifiedName())
	var out []*Error
	if open&opDelete != 0 {
		if cols := outsideIdentity(r.where.oldRowReads(OpDelete, "row", "before"), t); len(cols) > 0 {
			out = append(out, rs.identityProblem(r, t, cols, "a delete",
				"a delete it rejects is dropped silently (no delete event, no tombstone) and consumers keep the row", deleteFix(r, t)))
		}
	}
	if open&opUpdate != 0 {
		if cols := outsideIdentity(r.where.oldRowReads(OpUpdate, "before"), t); len(cols) > 0 {
			out = append(out, rs.identityProblem(r, t, cols, "a key-changing update (published as a delete of the old key and a create)",
				"a key change it rejects is dropped silently (no delete of the old key, no tombstone) and consumers keep the old key's row",
				fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL; or read the new row (row, after) instead of before", pgident.SQL(t.Schema, t.Name))))
		}
	}
	return out
}

// identityProblem is the *Error of identityProblems for cols ("row.amount")
// read on the old row of what ("a delete"), with its effect.
func (rs *Rules) identityProblem(r *Rule, t Table, cols []string, what, effect, fix string) *Error {
	return &Error{File: rs.File, Pos: r.whereAt(0, 0, false),
		Msg: fmt.Sprintf("rules[%d].where reads %s, which the old row of %s of %s does not carry (replica identity: %s, not FULL): the expression sees null there, so %s",
			r.Index, strings.Join(cols, ", "), what, t.QualifiedName(), identityText(t), effect),
		Fix: fix}
}

// deleteFix is the fix for a where that cannot decide deletes of t; the
// where it suggests is written as YAML single-quoted scalar.
func deleteFix(r *Rule, t Table) string {
	pass := `op == "delete" || (...)`
	if !strings.ContainsAny(r.Where, "\n") && len(r.Where) <= 60 {
		pass = fmt.Sprintf(`op == "delete" || (%s)`, r.Where)
	}
	return fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL; or leave delete out of operations (then no delete is published); or let every delete pass: where: '%s'",
		pgident.SQL(t.Schema, t.Name), strings.ReplaceAll(pass, "'", "''")) // YAML's single-quoted form
}

// outsideIdentity returns the reads ("row.amount") of columns that t has
// outside its replica identity, sorted. A column t lacks is left to
// whereProblem, which refuses the file.
func outsideIdentity(reads map[string][]string, t Table) []string {
	var out []string
	for v, cols := range reads {
		for _, c := range cols {
			if contains(t.Columns, c) && !contains(t.Identity, c) {
				out = append(out, v+"."+c)
			}
		}
	}
	sort.Strings(out)
	return out
}

// whereOps returns the operations for which r's where expression is
// evaluated on changes of the table "schema.table": r's own, less those an
// earlier rule naming the table decides first (one without a where, or any
// for truncates), less truncate (where does not apply to it).
func (rs *Rules) whereOps(r *Rule, name string) opSet {
	if r.where == nil {
		return 0
	}
	open := opAll
	for _, e := range rs.Rules {
		if e == r {
			return r.ops & open &^ opTruncate
		}
		if !e.matches(name) {
			continue
		}
		taken := e.ops & opTruncate
		if e.where == nil {
			taken = e.ops
		}
		open &^= taken
	}
	return 0
}

// oldRowReads returns, per variable among vars, the columns p reads
// (v.col, v["col"], get(v, "col")) when op is op, leaving out the parts
// of the expression that op settles: for a delete, op == "delete" ||
// row.amount > 100 reads nothing, op != "delete" && row.amount > 100
// nothing either. Reads by a computed name (row[name], $env.row) cannot
// be told and are not listed.
func (p *predicate) oldRowReads(op string, vars ...string) map[string][]string {
	tree, err := parser.Parse(p.src)
	if err != nil {
		return nil
	}
	w := &opReads{op: op, vars: vars, seen: map[string]map[string]bool{}}
	w.visit(tree.Node)
	out := map[string][]string{}
	for v, cols := range w.seen {
		for c := range cols {
			out[v] = append(out[v], c)
		}
		sort.Strings(out[v])
	}
	return out
}

// opReads collects the column reads of an expression whose op is known.
type opReads struct {
	op   string
	vars []string
	seen map[string]map[string]bool
}

// visit collects the reads of n that its value can depend on.
func (w *opReads) visit(n ast.Node) {
	if _, known := w.known(n); known {
		return
	}
	switch x := n.(type) {
	case *ast.BinaryNode:
		if isLogical(x.Operator) {
			w.visit(x.Left)
			w.visit(x.Right)
			return
		}
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			w.visit(x.Node)
			return
		}
	case *ast.ConditionalNode:
		if c, known := w.known(x.Cond); known {
			if c {
				w.visit(x.Exp1)
			} else {
				w.visit(x.Exp2)
			}
			return
		}
	}
	ast.Walk(&n, w)
}

// Visit records v.col, v["col"] and get(v, "col") for v among w.vars.
func (w *opReads) Visit(node *ast.Node) {
	var id, prop ast.Node
	switch n := (*node).(type) {
	case *ast.MemberNode:
		id, prop = n.Node, n.Property
	case *ast.BuiltinNode:
		if n.Name != "get" || len(n.Arguments) != 2 {
			return
		}
		id, prop = n.Arguments[0], n.Arguments[1]
	default:
		return
	}
	v, ok := id.(*ast.IdentifierNode)
	s, isStr := prop.(*ast.StringNode)
	if !ok || !isStr || !contains(w.vars, v.Value) {
		return
	}
	if w.seen[v.Value] == nil {
		w.seen[v.Value] = map[string]bool{}
	}
	w.seen[v.Value][s.Value] = true
}

// known returns the value of boolean n when w.op alone settles it: op
// compared with a string (==, !=, in, not in a list of strings), true,
// false, and not, and, or and ?: of such.
func (w *opReads) known(n ast.Node) (value, ok bool) {
	switch x := n.(type) {
	case *ast.BoolNode:
		return x.Value, true
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			v, ok := w.known(x.Node)
			return !v, ok
		}
	case *ast.ConditionalNode:
		if c, ok := w.known(x.Cond); ok {
			if c {
				return w.known(x.Exp1)
			}
			return w.known(x.Exp2)
		}
	case *ast.BinaryNode:
		return w.knownBinary(x)
	}
	return false, false
}

// knownBinary is known for a binary operator.
func (w *opReads) knownBinary(x *ast.BinaryNode) (value, ok bool) {
	switch x.Operator {
	case "&&", "and", "||", "or":
		l, lok := w.known(x.Left)
		r, rok := w.known(x.Right)
		settles := x.Operator == "||" || x.Operator == "or" // true settles or, false settles and
		switch {
		case lok && l == settles, rok && r == settles:
			return settles, true
		case lok && rok:
			return l, true
		}
	case "==", "!=":
		if s, ok := w.opString(x.Left, x.Right); ok {
			return (s == w.op) == (x.Operator == "=="), true
		}
	case "in":
		if !w.isOp(x.Left) {
			return false, false
		}
		list, ok := x.Right.(*ast.ArrayNode)
		if !ok {
			return false, false
		}
		found := false
		for _, e := range list.Nodes {
			s, isStr := e.(*ast.StringNode)
			if !isStr {
				return false, false
			}
			found = found || s.Value == w.op
		}
		return found, true
	}
	return false, false
}

// opString returns the string that op is compared with in a == b or b == a.
func (w *opReads) opString(a, b ast.Node) (string, bool) {
	if w.isOp(b) {
		a, b = b, a
	}
	s, ok := b.(*ast.StringNode)
	if !ok || !w.isOp(a) {
		return "", false
	}
	return s.Value, true
}

func (w *opReads) isOp(n ast.Node) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == "op"
}

func isLogical(op string) bool { return op == "&&" || op == "and" || op == "||" || op == "or" }
