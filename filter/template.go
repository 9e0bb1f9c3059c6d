package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// template is a topic with ${name} placeholders.
type template struct {
	src   string
	parts []tplPart
}

// tplPart is a literal, or a variable when v is set.
type tplPart struct {
	lit string
	v   string
}

// maxTopicLen is Kafka's limit on topic names.
const maxTopicLen = 249

// parseTemplate parses src; allowed says which variable names may appear
// (nil: any identifier, checked later against the table's columns).
func parseTemplate(src string, allowed []string) (*template, error) {
	t := &template{src: src}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "${")
		if i < 0 {
			t.parts = append(t.parts, tplPart{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tplPart{lit: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed ${ in %q", src)
		}
		name := rest[i+2 : i+end]
		if !isIdent(name) {
			return nil, fmt.Errorf("${%s} in %q is not a name", name, src)
		}
		if allowed != nil && !contains(allowed, name) {
			return nil, fmt.Errorf("unknown variable ${%s} in %q", name, src)
		}
		t.parts = append(t.parts, tplPart{v: name})
		rest = rest[i+end+1:]
	}
	if t.static() {
		if err := checkTopic(src); err != nil {
			return nil, err
		}
	} else if len(t.literal()) > maxTopicLen || strings.ContainsFunc(t.literal(), func(r rune) bool { return !topicRune(r) }) {
		return nil, fmt.Errorf("topic %q: the fixed text may only use letters, digits, '.', '_' and '-' (at most %d)", src, maxTopicLen)
	}
	return t, nil
}

func joinVars(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "${" + v + "}"
	}
	return strings.Join(out, ", ")
}

// static reports whether t has no variables.
func (t *template) static() bool {
	for _, p := range t.parts {
		if p.v != "" {
			return false
		}
	}
	return true
}

// literal is t's fixed text.
func (t *template) literal() string {
	var b strings.Builder
	for _, p := range t.parts {
		b.WriteString(p.lit)
	}
	return b.String()
}

// vars lists t's variables in order.
func (t *template) vars() []string {
	var out []string
	for _, p := range t.parts {
		if p.v != "" {
			out = append(out, p.v)
		}
	}
	return out
}

// expand substitutes variables with lookup's values, replacing characters
// Kafka does not allow in topic names with '_' (as Debezium's topic naming
// does), and checks the result.
func (t *template) expand(lookup func(string) (string, error)) (string, error) {
	if t.static() {
		return t.src, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.v == "" {
			b.WriteString(p.lit)
			continue
		}
		v, err := lookup(p.v)
		if err != nil {
			return "", err
		}
		for _, r := range v {
			if topicRune(r) {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	topic := b.String()
	if err := checkTopic(topic); err != nil {
		return "", fmt.Errorf("topic template %q: %w", t.src, err)
	}
	return topic, nil
}

// checkTopic rejects names Kafka would reject.
func checkTopic(topic string) error {
	switch {
	case topic == "" || topic == "." || topic == "..":
		return fmt.Errorf("topic %q is not a valid Kafka topic name", topic)
	case len(topic) > maxTopicLen:
		return fmt.Errorf("topic %q is longer than %d characters", topic, maxTopicLen)
	}
	for _, r := range topic {
		if !topicRune(r) {
			return fmt.Errorf("topic %q has character %q; Kafka allows letters, digits, '.', '_' and '-'", topic, r)
		}
	}
	return nil
}

func topicRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '_' || r == '-')
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
