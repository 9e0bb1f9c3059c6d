package filter

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/walrelay/walrelay/internal/suggest"
)

// field is one key and its value in a YAML mapping.
type field struct {
	key, val *yaml.Node
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// loader walks the rules file's YAML nodes and records every mistake with
// its position in c.
type loader struct {
	c     *collector
	lines []string // the file's lines, for positions inside block scalars
}

// fields returns the keys of mapping n, reporting a non-mapping, unknown
// keys (with the nearest allowed key as the fix), duplicate keys and aliases.
// where names n in messages ("rules[2]").
func (p *loader) fields(n *yaml.Node, where string, allowed ...string) (map[string]field, bool) {
	if !p.plain(n, where) {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		p.c.add(pos(n), "write it as key: value lines", "%s: expected a mapping, found %s", where, kindName(n))
		return nil, false
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.c.add(pos(k), "use a plain word as the key", "%s: a key must be a string, found %s", where, kindName(k))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			p.c.add(pos(k), "remove one of them", "%s: duplicate key %q (first at line %d)", where, k.Value, prev.key.Line)
			continue
		}
		if !contains(allowed, k.Value) {
			p.c.add(pos(k), unknownKeyFix(k.Value, allowed), "%s: unknown key %q", where, k.Value)
			continue
		}
		out[k.Value] = field{key: k, val: v}
	}
	return out, true
}

// plain reports an alias (not supported: it would let a small file expand
// into a huge one) and returns false for it.
func (p *loader) plain(n *yaml.Node, where string) bool {
	if n.Kind == yaml.AliasNode {
		p.c.add(pos(n), "write the value out instead of *"+n.Value, "%s: YAML aliases are not supported in rules files", where)
		return false
	}
	return true
}

// str returns a string scalar.
func (p *loader) str(n *yaml.Node, where string) (string, bool) {
	if !p.plain(n, where) {
		return "", false
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
		p.c.add(pos(n), "give it a value", "%s: missing value", where)
		return "", false
	case n.Kind != yaml.ScalarNode:
		p.c.add(pos(n), "write a single string", "%s: expected a string, found %s", where, kindName(n))
		return "", false
	case n.ShortTag() != "!!str":
		p.c.add(pos(n), "quote it: "+strconv.Quote(n.Value), "%s: expected a string, found %s %s", where, kindName(n), n.Value)
		return "", false
	}
	return n.Value, true
}

// strList returns a list of strings; a single string counts as a list of one.
// Every element's node is returned too, for positions.
func (p *loader) strList(n *yaml.Node, where string) ([]string, []*yaml.Node, bool) {
	if !p.plain(n, where) {
		return nil, nil, false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return []string{n.Value}, []*yaml.Node{n}, true
	}
	if n.Kind != yaml.SequenceNode {
		p.c.add(pos(n), "write a list, e.g. [a, b]", "%s: expected a list of strings, found %s", where, kindName(n))
		return nil, nil, false
	}
	if len(n.Content) == 0 {
		p.c.add(pos(n), "name at least one, or remove the key", "%s: empty list", where)
		return nil, nil, false
	}
	out := make([]string, 0, len(n.Content))
	nodes := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for i, e := range n.Content {
		s, good := p.str(e, fmt.Sprintf("%s[%d]", where, i))
		if !good {
			ok = false
			continue
		}
		if j := indexOf(out, s); j >= 0 {
			p.c.add(pos(e), "remove the duplicate", "%s: %q is listed twice (line %d)", where, s, nodes[j].Line)
			ok = false
			continue
		}
		out, nodes = append(out, s), append(nodes, e)
	}
	return out, nodes, ok
}

// boolean returns a true/false scalar.
func (p *loader) boolean(n *yaml.Node, where string) (bool, bool) {
	if !p.plain(n, where) {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.c.add(pos(n), "use true or false", "%s: expected true or false, found %q", where, n.Value)
		return false, false
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil { // YAML 1.1 forms yaml.v3 still tags !!bool
		p.c.add(pos(n), "use true or false", "%s: expected true or false, found %q", where, n.Value)
		return false, false
	}
	return v, true
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		case "!!str":
			return "a string"
		}
		return "a scalar " + n.ShortTag()
	}
	return "nothing"
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the yaml.v3 errors raised by its parser (not its
// scanner): for those yaml.v3 prints the 0-based line where the enclosing
// collection starts, and no column.
var parserProblems = []string{"did not find expected", "found undefined tag handle", "found duplicate", "found incompatible"}

// syntaxError turns a yaml.v3 parse error into an *Error. yaml.v3 reports a
// line only: the line of the problem for scanner errors, the line where the
// enclosing block starts for parser errors.
func syntaxError(file string, err error) error {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return Errors{{File: file, Pos: Pos{Line: 1, Column: 1}, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: "),
			Fix: "fix the YAML syntax"}}
	}
	line, _ := strconv.Atoi(m[1])
	fix := "fix the YAML at that line"
	for _, p := range parserProblems {
		if strings.HasPrefix(m[2], p) {
			line++
			fix = "fix the YAML in the block that starts at that line: an unclosed [ or {, or a bad indentation"
		}
	}
	return Errors{{File: file, Pos: Pos{Line: line}, Msg: "YAML syntax: " + m[2], Fix: fix}}
}

// unknownKeyFix suggests the allowed key nearest to k.
func unknownKeyFix(k string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := suggest.Distance(k, a); d < bestD {
			best, bestD = a, d
		}
	}
	if best != "" {
		return "did you mean " + strconv.Quote(best) + "?"
	}
	return "allowed keys here: " + joinQuoted(allowed)
}

func joinQuoted(list []string) string {
	s := ""
	for i, a := range list {
		if i > 0 {
			s += ", "
		}
		s += a
	}
	return s
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
