package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// Level is a compatibility level, as Confluent names them.
type Level string

// Compatibility levels. BACKWARD: consumers using the new schema can read
// data written with the previous one; FORWARD: consumers using the previous
// schema can read data written with the new one; FULL: both. The
// _TRANSITIVE forms check against every earlier version instead of the
// latest only; NONE checks nothing.
const (
	Backward           Level = "BACKWARD"
	BackwardTransitive Level = "BACKWARD_TRANSITIVE"
	Forward            Level = "FORWARD"
	ForwardTransitive  Level = "FORWARD_TRANSITIVE"
	Full               Level = "FULL"
	FullTransitive     Level = "FULL_TRANSITIVE"
	None               Level = "NONE"
)

// DefaultLevel is the level when none is configured.
const DefaultLevel = Backward

// ParseLevel parses a level name, case-insensitively; "" is DefaultLevel.
func ParseLevel(s string) (Level, error) {
	if s == "" {
		return DefaultLevel, nil
	}
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	switch l {
	case Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None:
		return l, nil
	}
	return "", fmt.Errorf("unknown compatibility level %q: use BACKWARD, BACKWARD_TRANSITIVE, FORWARD, "+
		"FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE", s)
}

// Transitive reports whether l checks against every earlier version.
func (l Level) Transitive() bool { return strings.HasSuffix(string(l), "_TRANSITIVE") }

// backward and forward report which directions l checks.
func (l Level) backward() bool {
	return strings.HasPrefix(string(l), "BACKWARD") || strings.HasPrefix(string(l), "FULL")
}
func (l Level) forward() bool {
	return strings.HasPrefix(string(l), "FORWARD") || strings.HasPrefix(string(l), "FULL")
}

// Version is one registered version of a subject.
type Version struct {
	Subject string
	Version int
	ID      int
	Text    string      // the schema as registered
	Schema  avro.Schema // parsed; may be nil where only Text is known
	// References are the version's own schema references, as registered
	// (Schema is parsed with them resolved); none in the embedded registry.
	References []Reference
}

// Check reports whether schema may be registered after history (the
// subject's versions, oldest first) under level: nil when it may, else an
// *IncompatibleError (Subject left empty) naming the first version it breaks
// against and every field that breaks. A non-transitive level looks at the
// latest version only; NONE and an empty history accept anything.
func Check(level Level, schema avro.Schema, history []Version) error {
	if level == None || len(history) == 0 {
		return nil
	}
	against := history
	if !level.Transitive() {
		against = history[len(history)-1:]
	}
	sc := avro.NewSchemaCompatibility()
	for i := len(against) - 1; i >= 0; i-- {
		old := against[i]
		if old.Schema == nil {
			return fmt.Errorf("version %d of subject %q has no parsed schema", old.Version, old.Subject)
		}
		var problems []Problem
		if level.backward() {
			if err := sc.Compatible(schema, old.Schema); err != nil {
				problems = append(problems, explain(sc, schema, old.Schema, true, err)...)
			}
		}
		if level.forward() {
			if err := sc.Compatible(old.Schema, schema); err != nil {
				problems = append(problems, explain(sc, old.Schema, schema, false, err)...)
			}
		}
		if len(problems) > 0 {
			return &IncompatibleError{Level: level, Against: old, Problems: dedupe(problems)}
		}
	}
	return nil
}

// dedupe drops problems equal to an earlier one.
func dedupe(ps []Problem) []Problem {
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		k := p.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}
