package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLogDurationsInSeconds: every duration in a log line is a number of
// seconds whose field name says so (retry_in_seconds, took_seconds), as the
// progress line's lags and the metrics are. zerolog's Dur writes bare
// milliseconds under a name without a unit ("retry_in": 4000), which an
// operator or a log query reads as seconds; no line may use it, and a
// Float64 field whose value is a duration's Seconds() must end in _seconds.
// The check reads the module's sources (not its tests): it covers every
// line, including those no test can provoke cheaply.
func TestLogDurationsInSeconds(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	var bad []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if msg := durationField(n); msg != "" {
				bad = append(bad, fset.Position(n.Pos()).String()+": "+msg)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("log durations not in seconds with _seconds names "+
			"(write Float64(\"name_seconds\", logfield.Seconds(d))):\n%s", strings.Join(bad, "\n"))
	}
}

// durationField describes n if it is a log field that writes a duration
// other than as Float64("…_seconds", d.Seconds()), else returns "".
func durationField(n ast.Node) string {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) != 2 {
		return ""
	}
	key := "?"
	if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
		key, _ = strconv.Unquote(lit.Value)
	}
	switch sel.Sel.Name {
	case "Dur", "Durs":
		return sel.Sel.Name + "(" + strconv.Quote(key) + "): milliseconds without a unit"
	case "Str":
		if v, ok := call.Args[1].(*ast.CallExpr); ok && isCallOf(call.Args[1], "String") && isCallOf(v.Fun.(*ast.SelectorExpr).X, "Round") {
			return "Str(" + strconv.Quote(key) + ", ….Round(…).String()): a duration as text"
		}
	case "Float64":
		if isCallOf(call.Args[1], "Seconds") && !strings.HasSuffix(key, "_seconds") {
			return "Float64(" + strconv.Quote(key) + ", ….Seconds()): the name does not end in _seconds"
		}
	}
	return ""
}

// isCallOf reports whether e is a call of a method named name.
func isCallOf(e ast.Expr, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name
}
