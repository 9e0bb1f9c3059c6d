package filter

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/walrelay/walrelay/internal/pgident"
)

// identityProblems reports rule r's where expression rejecting, or failing
// on, changes whose rows PostgreSQL sends incomplete: such a delete is
// dropped (no delete event, no tombstone) and consumers keep the row. Two
// cases. A delete: its row and before are the old row, which carries only
// the replica identity's columns (the others are nil), and after is nil
// whatever the identity; see deleteProblem for when it is reported. An
// update that changes the key (published as a delete of the old key and a
// create): reported when the expression reads before.col for a col
// outside the identity, unless op settles it. Nothing is reported for
// REPLICA IDENTITY NOTHING (PostgreSQL refuses such deletes; the
// replica-identity check says so), for drop and outbox rules (a rejected
// delete is then not dropped, or never published anyway), or for an
// operation that earlier rules decide first.
func (rs *Rules) identityProblems(r *Rule, t Table) []*Error {
	if r.where == nil || r.Drop || r.Outbox != nil || t.IdentityKind == "n" {
		return nil
	}
	open := rs.whereOps(r, t.QualifiedName())
	var out []*Error
	if open&opDelete != 0 {
		if e := rs.deleteProblem(r, t); e != nil {
			out = append(out, e)
		}
	}
	if open&opUpdate != 0 && t.IdentityKind != "f" {
		if cols := outsideIdentity(r.where.oldRowReads(OpUpdate, "before"), t); len(cols) > 0 {
			out = append(out, &Error{File: rs.File, Pos: r.whereAt(0, 0, false),
				Msg: fmt.Sprintf("rules[%d].where reads %s, which the old row of a key-changing update (published as a delete of the old key and a create) of %s does not carry (replica identity: %s, not FULL): the expression sees null there, so a key change it rejects is dropped silently (no delete of the old key, no tombstone) and consumers keep the old key's row",
					r.Index, strings.Join(cols, ", "), t.QualifiedName(), identityText(t)),
				Fix: fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL; or read the new row (row, after) instead of before", pgident.SQL(t.Schema, t.Name))})
		}
	}
	return out
}

// deleteProblem reports r's where expression when a delete of t reaches
// it and the expression, for deletes (the parts op settles left out),
// reads row.col or before.col for a col outside t's replica identity, or
// after.col; and only when, evaluated on a delete (deleteVerdict), it can
// come out false or fail. So row.amount == nil || row.amount > 100 and
// op == "delete" || row.amount > 100 are not reported, nor row.id > 5
// (the key decides deletes as it decides inserts); row.amount > 100,
// after.amount > 100 (under any identity) and row.amount + 1 > 5 are.
func (rs *Rules) deleteProblem(r *Rule, t Table) *Error {
	reads := r.where.oldRowReads(OpDelete, "row", "before", "after")
	var after []string
	for _, c := range reads["after"] {
		if contains(t.Columns, c) { // a column t lacks is whereProblem's
			after = append(after, "after."+c)
		}
	}
	delete(reads, "after")
	var old []string
	if t.IdentityKind != "f" {
		old = outsideIdentity(reads, t)
	}
	if len(old)+len(after) == 0 {
		return nil
	}
	effect := "a delete it rejects is dropped silently (no delete event, no tombstone) and consumers keep the row"
	switch r.where.deleteVerdict(t) {
	case deletePasses:
		return nil
	case deleteFails:
		effect = "the expression fails on a delete (as null + 1 does) and the pipeline halts at the first delete of the table until the rule changes"
	}
	var parts []string
	if len(old) > 0 {
		parts = append(parts, fmt.Sprintf("%s, which the old row of a delete of %s does not carry (replica identity: %s, not FULL)",
			strings.Join(old, ", "), t.QualifiedName(), identityText(t)))
	}
	if len(after) > 0 {
		parts = append(parts, fmt.Sprintf("%s, which a delete of %s does not have (a delete has no new row, whatever the replica identity)",
			strings.Join(after, ", "), t.QualifiedName()))
	}
	return &Error{File: rs.File, Pos: r.whereAt(0, 0, false),
		Msg: fmt.Sprintf("rules[%d].where reads %s: the expression sees null there, so %s", r.Index, strings.Join(parts, "; and "), effect),
		Fix: deleteFix(r, t, len(old) > 0, after)}
}

// deleteFix is the fix for a where that cannot decide deletes of t: FULL
// when it reads old-row columns outside the identity (old), reading row
// rather than after when a delete's old row carries the after columns it
// reads, leaving delete out, or letting every delete pass, with the where
// written as a YAML single-quoted scalar.
func deleteFix(r *Rule, t Table, old bool, after []string) string {
	var fixes []string
	switch {
	case old && len(after) > 0:
		fixes = append(fixes, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL and read row, not after (for a delete, row is the old row; after is null)", pgident.SQL(t.Schema, t.Name)))
	case old:
		fixes = append(fixes, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL", pgident.SQL(t.Schema, t.Name)))
	case afterInIdentity(after, t):
		fixes = append(fixes, "read row, not after (for a delete, row is the old row, which carries these columns; after is null)")
	}
	pass := `op == "delete" || (...)`
	if !strings.ContainsAny(r.Where, "\n") && len(r.Where) <= 60 {
		pass = fmt.Sprintf(`op == "delete" || (%s)`, r.Where)
	}
	fixes = append(fixes, "leave delete out of operations (then no delete is published)",
		"let every delete pass: where: '"+strings.ReplaceAll(pass, "'", "''")+"'") // YAML's single-quoted form
	return strings.Join(fixes, "; or ")
}

// afterInIdentity says whether t's replica identity holds every column of
// after ("after.amount").
func afterInIdentity(after []string, t Table) bool {
	for _, a := range after {
		if !contains(t.Identity, strings.TrimPrefix(a, "after.")) {
			return false
		}
	}
	return len(after) > 0
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
