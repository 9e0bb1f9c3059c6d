package filter

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/walrelay/walrelay/event"
)

// maxFileSize bounds a rules file; anything larger is a mistake.
const maxFileSize = 4 << 20

// Load reads, parses and validates the rules file at path. salt is the
// config's mask_salt (WALRELAY_MASK_SALT); a file that masks columns needs a
// non-empty one. Every mistake found is returned as Errors (each an *Error
// with file:line:column and a fix); nothing is returned half-loaded.
// Called at start-up and on SIGHUP; safe from any goroutine.
func Load(path, salt string) (*Rules, error) {
	st, err := os.Stat(path)
	if err == nil && st.Size() > maxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("rules file is %d bytes, more than %d", st.Size(), maxFileSize),
			Fix: "check the rules path in the config"}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read rules file: %v", err),
			Fix: "check the rules path in the config"}}
	}
	return Parse(path, data, salt)
}

// Parse is Load on data already read; file names it in errors.
func Parse(file string, data []byte, salt string) (*Rules, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Pos: Pos{Line: 1, Column: 1}, Msg: "the rules file is empty",
			Fix: "add rules: with at least one rule, or remove rules from the config to capture postgres.tables"}}
	}
	l := &loader{c: &collector{file: file}, lines: strings.Split(string(data), "\n")}
	rs := &Rules{File: file, salt: []byte(salt), tables: map[*event.Relation]*tableState{}, versions: newVersions(),
		lineage: newLineage()}
	l.top(doc.Content[0], rs)
	if len(l.c.errs) == 0 {
		l.checkReach(rs)
		l.checkSalt(rs)
	}
	if err := l.c.err(); err != nil {
		return nil, err
	}
	return rs, nil
}

// top reads the document's top-level keys.
func (l *loader) top(n *yaml.Node, rs *Rules) {
	fs, ok := l.fields(n, "rules file", "default", "rules", "messages")
	if !ok {
		return
	}
	if f, ok := fs["default"]; ok {
		l.defaultKey(f.val, rs)
	}
	if f, ok := fs["rules"]; ok {
		for i, rn := range l.list(f.val, "rules") {
			if r := l.rule(rn, i); r != nil {
				rs.Rules = append(rs.Rules, r)
			}
		}
	}
	if f, ok := fs["messages"]; ok {
		for i, mn := range l.list(f.val, "messages") {
			if m := l.message(mn, i); m != nil {
				rs.Messages = append(rs.Messages, m)
			}
		}
	}
	if len(l.c.errs) == 0 && len(rs.Rules) == 0 && len(rs.Messages) == 0 && rs.Default == DefaultDrop {
		l.c.add(pos(n), "add rules: [{tables: [schema.table]}], or set default: capture",
			"the rules file captures nothing: no rules, no messages and default: drop")
	}
}

func (l *loader) defaultKey(n *yaml.Node, rs *Rules) {
	s, ok := l.str(n, "default")
	if !ok {
		return
	}
	switch s {
	case "drop":
		rs.Default = DefaultDrop
	case "capture":
		rs.Default = DefaultCapture
	default:
		l.c.add(pos(n), "use drop or capture", "default: unknown value %q", s)
	}
}

// list returns the items of a sequence (reporting anything else).
func (l *loader) list(n *yaml.Node, where string) []*yaml.Node {
	if !l.plain(n, where) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.c.add(pos(n), "write a list of entries, each starting with '- '", "%s: expected a list, found %s", where, kindName(n))
		return nil
	}
	return n.Content
}

// message reads one entry of messages:.
func (l *loader) message(n *yaml.Node, i int) *MessageRoute {
	where := fmt.Sprintf("messages[%d]", i)
	fs, ok := l.fields(n, where, "prefix", "topic", "type", "content_type")
	if !ok {
		return nil
	}
	m := &MessageRoute{Pos: pos(n)}
	good := l.required(fs, n, where, "prefix", "topic")
	if f, ok := fs["prefix"]; ok {
		if m.Prefix, ok = l.str(f.val, where+".prefix"); ok {
			var err error
			if m.pat, err = compilePattern(m.Prefix, false); err != nil {
				l.c.add(pos(f.val), patternFix(m.Prefix), "%s.prefix: %v", where, err)
				good = false
			}
		} else {
			good = false
		}
	}
	if f, ok := fs["topic"]; ok {
		m.Topic, m.topic, ok = l.topicKey(f.val, where+".topic", []string{"prefix"})
		good = good && ok
	}
	m.Type, good = l.optStr(fs, "type", where, good)
	m.ContentType, good = l.optStr(fs, "content_type", where, good)
	if !good {
		return nil
	}
	return m
}

// required reports each missing key of a mapping.
func (l *loader) required(fs map[string]field, n *yaml.Node, where string, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if _, has := fs[k]; !has {
			l.c.add(pos(n), "add "+k+": ...", "%s: missing %s", where, k)
			ok = false
		}
	}
	return ok
}

// optStr reads an optional string key.
func (l *loader) optStr(fs map[string]field, key, where string, good bool) (string, bool) {
	f, has := fs[key]
	if !has {
		return "", good
	}
	s, ok := l.str(f.val, where+"."+key)
	return s, good && ok
}

// topicKey reads a topic template.
func (l *loader) topicKey(n *yaml.Node, where string, vars []string) (string, *template, bool) {
	s, ok := l.str(n, where)
	if !ok {
		return "", nil, false
	}
	t, err := parseTemplate(s, vars)
	if err != nil {
		fix := "use letters, digits, '.', '_' and '-'"
		if len(vars) > 0 {
			fix += ", and the variables " + joinVars(vars)
		} else {
			fix += ", and ${column} for a column of the row"
		}
		l.c.add(pos(n), fix, "%s: %v", where, err)
		return "", nil, false
	}
	return s, t, true
}

// patternFix is the fix for a pattern that does not compile.
func patternFix(src string) string {
	if len(src) >= 3 && src[:3] == regexpPrefix {
		return "write a valid RE2 regular expression after re:"
	}
	return "write schema.table; globs use *, ? and [a-z]; prefix re: for a regular expression"
}

// checkSalt requires a salt when a rule masks columns.
func (l *loader) checkSalt(rs *Rules) {
	if len(rs.salt) > 0 {
		return
	}
	for _, r := range rs.Rules {
		if len(r.Mask) > 0 {
			l.c.add(r.maskPos, "set mask_salt in the config or the WALRELAY_MASK_SALT environment variable",
				"rules[%d].columns.mask: masking needs a salt, and none is configured", r.Index)
			return
		}
	}
}
