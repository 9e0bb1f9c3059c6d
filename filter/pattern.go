package filter

import (
	"fmt"
	"regexp"
	"strings"
)

// patternKind says how a pattern matches names.
type patternKind uint8

const (
	patExact  patternKind = iota // "public.orders"
	patGlob                      // "sales.*", "public.order_?", "public.t[0-9]"
	patRegexp                    // "re:public\.orders_\d+"
)

// pattern matches qualified names ("schema.table") or message prefixes.
// Globs and regular expressions match the whole name.
type pattern struct {
	src  string // as written in the rules file
	kind patternKind
	re   *regexp.Regexp // glob and regexp kinds
	pos  Pos
}

// regexpPrefix marks a pattern as a regular expression.
const regexpPrefix = "re:"

// compilePattern parses a table or prefix pattern. qualified requires an
// exact name or glob to be "schema.table".
func compilePattern(src string, qualified bool) (*pattern, error) {
	p := &pattern{src: src}
	switch {
	case src == "":
		return nil, fmt.Errorf("empty pattern")
	case strings.HasPrefix(src, regexpPrefix):
		expr := strings.TrimPrefix(src, regexpPrefix)
		if expr == "" {
			return nil, fmt.Errorf("empty regular expression %q", src)
		}
		re, err := regexp.Compile(`^(?:` + expr + `)$`)
		if err != nil {
			return nil, fmt.Errorf("bad regular expression %q: %w", expr, err)
		}
		p.kind, p.re = patRegexp, re
		return p, nil
	case strings.ContainsAny(src, `*?[\`):
		re, err := globRegexp(src)
		if err != nil {
			return nil, fmt.Errorf("bad glob %q: %w", src, err)
		}
		p.kind, p.re = patGlob, re
	}
	if qualified {
		if s, t, ok := strings.Cut(src, "."); !ok || s == "" || t == "" {
			return nil, fmt.Errorf("%q is not schema.table", src)
		}
	}
	return p, nil
}

// match reports whether name matches p.
func (p *pattern) match(name string) bool {
	if p.kind == patExact {
		return p.src == name
	}
	return p.re.MatchString(name)
}

// covers reports whether every name q matches is also matched by p. It is
// conservative: false when it cannot tell (then no rule is reported
// unreachable that might be reachable).
func (p *pattern) covers(q *pattern) bool {
	if p.src == q.src {
		return true
	}
	switch {
	case q.kind == patExact:
		return p.match(q.src)
	case p.kind == patGlob && q.kind == patGlob:
		ps, pt, _ := strings.Cut(p.src, ".")
		qs, qt, _ := strings.Cut(q.src, ".")
		return (ps == "*" || ps == qs) && (pt == "*" || pt == qt) && !strings.Contains(qs+qt, ".")
	}
	return false
}

// globRegexp translates a glob into an anchored regular expression: '*' is
// any sequence, '?' any one character, [abc], [a-z] and [!abc] are classes,
// and a backslash makes the next character literal.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	rs := []rune(glob)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '\\':
			if i+1 == len(rs) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case '[':
			end, class, err := globClass(rs, i)
			if err != nil {
				return nil, err
			}
			b.WriteString(class)
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// globClass translates the class starting at rs[start] == '[' and returns
// the index of its closing ']'.
func globClass(rs []rune, start int) (int, string, error) {
	var b strings.Builder
	b.WriteString("[")
	i := start + 1
	if i < len(rs) && (rs[i] == '!' || rs[i] == '^') {
		b.WriteString("^")
		i++
	}
	first := i
	for ; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ']' && i > first:
			b.WriteString("]")
			return i, b.String(), nil
		case r == '\\':
			if i+1 == len(rs) {
				return 0, "", fmt.Errorf("trailing backslash")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case r == '-' && i > first && i+1 < len(rs) && rs[i+1] != ']':
			b.WriteString("-")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if i == first {
		return 0, "", fmt.Errorf("empty character class")
	}
	return 0, "", fmt.Errorf("unclosed '['")
}
