package filter

import (
	"fmt"
	"sort"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// exprEnv is what a where expression sees. Row is After, or Before for
// deletes; column values are converted by exprValue.
type exprEnv struct {
	Row    map[string]any `expr:"row"`
	Before map[string]any `expr:"before"`
	After  map[string]any `expr:"after"`
	Op     string         `expr:"op"`
}

// Variables of where expressions.
var exprVars = []string{"row", "before", "after", "op"}

// predicate is a compiled where expression.
type predicate struct {
	src  string
	prog *vm.Program
	// cols lists, per row variable, the columns the expression names
	// statically (row.x, row["x"]), for catalog checks.
	cols map[string][]string
	// static is true when row, before and after are only used as row.x or
	// row["x"]: then the expression needs no other column (see needed).
	static bool
}

// nullSafe names the comparison functions that replace <, <=, >, >=: a
// comparison with a NULL (nil) operand is false, as in SQL and in
// PostgreSQL's publication row filters, instead of an evaluation error.
var nullSafe = map[string]struct {
	name string
	fn   func(a, b any) bool
}{
	"<":  {"__walrelay_lt", runtime.Less},
	"<=": {"__walrelay_le", runtime.LessOrEqual},
	">":  {"__walrelay_gt", runtime.More},
	">=": {"__walrelay_ge", runtime.MoreOrEqual},
}

// compileWhere compiles src once, at load: unknown variables, syntax errors
// and a result that cannot be a boolean are errors (*file.Error carries the
// position inside src). now() is disabled so that replays decide alike.
func compileWhere(src string) (*predicate, error) {
	base := []expr.Option{expr.Env(exprEnv{}), expr.AsBool(), expr.DisableBuiltin("now")}
	// The checker does not report unknown names inside the arguments of a
	// typed function, so the expression is checked as written first.
	if _, err := expr.Compile(src, base...); err != nil {
		return nil, err
	}
	opts := append(base, expr.Patch(nullSafePatcher{}))
	for _, f := range nullSafe {
		fn := f.fn
		opts = append(opts, expr.Function(f.name, func(args ...any) (any, error) {
			if args[0] == nil || args[1] == nil {
				return false, nil
			}
			return fn(args[0], args[1]), nil
		}, new(func(any, any) bool)))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, err
	}
	cols, static := referencedColumns(src)
	return &predicate{src: src, prog: prog, cols: cols, static: static}, nil
}

// nullSafePatcher rewrites a < b (and <=, >, >=) into a call of the
// matching nullSafe function.
type nullSafePatcher struct{}

func (nullSafePatcher) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok {
		return
	}
	f, ok := nullSafe[b.Operator]
	if !ok {
		return
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: f.name},
		Arguments: []ast.Node{b.Left, b.Right},
	})
}

// eval runs the predicate on env. A runtime error (e.g. "abc" > 1) is
// returned; the caller halts rather than guess.
func (p *predicate) eval(env *exprEnv) (bool, error) {
	out, err := expr.Run(p.prog, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("where %q returned %T, not a boolean", p.src, out)
	}
	return b, nil
}

// referencedColumns collects row.x / before.x / after.x / row["x"] names,
// and reports whether those are the only uses of the row variables.
func referencedColumns(src string) (map[string][]string, bool) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, false
	}
	v := &refCollector{seen: map[string]map[string]bool{}}
	ast.Walk(&tree.Node, v)
	out := map[string][]string{}
	for variable, cols := range v.seen {
		for c := range cols {
			out[variable] = append(out[variable], c)
		}
		sort.Strings(out[variable])
	}
	return out, v.idents == v.members
}

// refCollector counts the uses of the row variables and collects the
// columns of their static member accesses.
type refCollector struct {
	seen            map[string]map[string]bool
	idents, members int
}

func isRowVar(name string) bool { return name == "row" || name == "before" || name == "after" }

func (r *refCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if isRowVar(n.Value) || n.Value == "$env" { // $env.row reads the whole row
			r.idents++
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || !isRowVar(id.Value) {
			return
		}
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return
		}
		r.members++
		if r.seen[id.Value] == nil {
			r.seen[id.Value] = map[string]bool{}
		}
		r.seen[id.Value][prop.Value] = true
	}
}

// needed adds the columns p reads to set; it returns false when p may read
// any column (then every column must be converted).
func (p *predicate) needed(set map[string]bool) bool {
	if !p.static {
		return false
	}
	for _, cols := range p.cols {
		for _, c := range cols {
			set[c] = true
		}
	}
	return true
}

// exprErrorPos returns the 0-based line offset and column of a compile
// error inside the expression, when expr reported one.
func exprErrorPos(err error) (line, col int, msg string, ok bool) {
	fe, isFile := err.(*file.Error)
	if !isFile {
		return 0, 0, err.Error(), false
	}
	return fe.Line - 1, fe.Column, fe.Message, fe.Line > 0
}
