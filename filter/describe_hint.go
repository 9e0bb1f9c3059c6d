package filter

import (
	"fmt"
	"strings"

	"github.com/walrelay/walrelay/internal/pgident"
)

// oldReadingHint returns, for a rule that names no existing table, a
// "did you mean" for each exact pattern x.y.z that names an existing table
// under the reading of a walrelay before f79f46a (schema "x.y", table
// z; it now means table "y.z" of schema x), in Format's form ('"x.y".z'):
// after an upgrade such a rule would otherwise stop capturing its table
// with no more than "names no existing table". "" when there is none.
func (r *Rule) oldReadingHint(tables []Table) string {
	var hints []string
	for _, p := range r.pats {
		if p.kind != patExact || strings.Count(p.src, ".") < 2 || strings.HasPrefix(p.src, `"`) {
			continue
		}
		last := strings.LastIndexByte(p.src, '.')
		schema, name := p.src[:last], p.src[last+1:]
		nowSchema, nowName, _ := strings.Cut(p.src, ".")
		for _, t := range tables {
			if t.Schema == schema && t.Name == name {
				hints = append(hints, fmt.Sprintf("did you mean '%s'? (before commit f79f46a, 2026-11-28 01:48 UTC, %s meant table %q of schema %q; it now means table %q of schema %q)",
					pgident.Format(schema, name), p.src, name, schema, nowName, nowSchema))
				break
			}
		}
	}
	return strings.Join(hints, "; ")
}
