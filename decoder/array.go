package decoder

import (
	"errors"
	"fmt"
)

// maxArrayDepth bounds nesting; Postgres allows 6 dimensions (MAXDIM).
const maxArrayDepth = 6

var errArraySyntax = errors.New("malformed array literal")

// arrayConverter converts an array's text form into []any whose elements are
// elem's values (nil for NULL); a multi-dimensional array becomes nested
// []any. delim is the element type's delimiter.
func arrayConverter(elem convertFunc, delim byte) convertFunc {
	return func(src []byte) (any, error) {
		v, err := parseArray(src, delim, elem)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// parseArray parses a Postgres array literal: an optional dimension prefix
// ("[0:2]="), then '{' elements '}' where an element is a nested array, a
// double-quoted string with backslash escapes, an unquoted word, or the
// unquoted word NULL (any case).
func parseArray(src []byte, delim byte, elem convertFunc) ([]any, error) {
	p := arrayParser{src: src, delim: delim, elem: elem}
	if len(src) > 0 && src[0] == '[' {
		for p.pos < len(src) && src[p.pos] != '=' {
			p.pos++
		}
		p.pos++ // '='
	}
	p.skipSpace()
	out, err := p.level(1)
	if err != nil {
		return nil, fmt.Errorf("array %q: %w", truncate(src, 64), err)
	}
	p.skipSpace()
	if p.pos != len(src) {
		return nil, fmt.Errorf("array %q: %w: trailing data", truncate(src, 64), errArraySyntax)
	}
	return out, nil
}

type arrayParser struct {
	src     []byte
	pos     int
	delim   byte
	elem    convertFunc
	scratch []byte
}

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.src) && isArraySpace(p.src[p.pos]) {
		p.pos++
	}
}

func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// level parses one '{...}' at the current position.
func (p *arrayParser) level(depth int) ([]any, error) {
	if depth > maxArrayDepth {
		return nil, fmt.Errorf("%w: more than %d dimensions", errArraySyntax, maxArrayDepth)
	}
	if p.pos >= len(p.src) || p.src[p.pos] != '{' {
		return nil, errArraySyntax
	}
	p.pos++
	out := []any{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return out, nil
	}
	for {
		p.skipSpace()
		v, err := p.element(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, errArraySyntax
		}
		switch p.src[p.pos] {
		case p.delim:
			p.pos++
		case '}':
			p.pos++
			return out, nil
		default:
			return nil, errArraySyntax
		}
	}
}

// element parses one element: a nested array, a quoted or an unquoted value.
func (p *arrayParser) element(depth int) (any, error) {
	if p.pos >= len(p.src) {
		return nil, errArraySyntax
	}
	switch p.src[p.pos] {
	case '{':
		return p.level(depth + 1)
	case '"':
		s, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return p.elem(s)
	}
	s, escaped, err := p.unquoted()
	if err != nil {
		return nil, err
	}
	if !escaped && len(s) == 4 && (s[0]|0x20) == 'n' && (s[1]|0x20) == 'u' && (s[2]|0x20) == 'l' && (s[3]|0x20) == 'l' {
		return nil, nil
	}
	return p.elem(s)
}

// quoted reads a double-quoted element, resolving backslash escapes.
func (p *arrayParser) quoted() ([]byte, error) {
	p.pos++ // opening quote
	p.scratch = p.scratch[:0]
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		p.pos++
		switch c {
		case '"':
			return p.scratch, nil
		case '\\':
			if p.pos >= len(p.src) {
				return nil, errArraySyntax
			}
			c = p.src[p.pos]
			p.pos++
		}
		p.scratch = append(p.scratch, c)
	}
	return nil, errArraySyntax
}

// unquoted reads an unquoted element up to the delimiter or '}', dropping
// trailing whitespace and resolving backslash escapes.
func (p *arrayParser) unquoted() ([]byte, bool, error) {
	start, escaped := p.pos, false
	p.scratch = p.scratch[:0]
	end := 0 // length of scratch up to the last non-space or escaped byte
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == p.delim || c == '}':
			if p.pos == start {
				return nil, false, errArraySyntax
			}
			return p.scratch[:end], escaped, nil
		case c == '{' || c == '"':
			return nil, false, errArraySyntax
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return nil, false, errArraySyntax
			}
			p.pos++
			escaped = true
			p.scratch = append(p.scratch, p.src[p.pos])
			end = len(p.scratch)
		default:
			p.scratch = append(p.scratch, c)
			if !isArraySpace(c) {
				end = len(p.scratch)
			}
		}
		p.pos++
	}
	return nil, false, errArraySyntax
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
