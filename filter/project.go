package filter

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/walrelay/walrelay/event"
)

// textOID is pg_type.oid of text: a masked column is announced as text.
const textOID = 25

// projection removes excluded columns from a relation version and turns
// masked ones into text, so every later stage (the JSON and Avro encoders,
// the schema registry) sees the projected relation only.
type projection struct {
	rel  *event.Relation // the projected relation (from versions)
	keep []int           // for each projected column, its index in the original
	mask []bool          // for each projected column, whether it is masked
	same bool            // nothing excluded or masked: values pass unchanged
}

// newProjection projects rel for a rule's exclude and mask lists (both nil
// for the identity) and key columns (nil: rel's own key). Names that the
// relation does not have are ignored here (Describe reports them). The
// projected relation comes from vs.
func newProjection(vs *versions, rel *event.Relation, exclude, mask, key []string) *projection {
	p := &projection{same: true}
	cols := make([]event.Column, 0, len(rel.Columns))
	for i, c := range rel.Columns {
		if contains(exclude, c.Name) {
			p.same = false
			continue
		}
		masked := contains(mask, c.Name)
		if masked {
			p.same = false
			c.TypeOID, c.TypeName, c.TypeMod, c.Kind, c.ElemOID = textOID, "text", -1, event.KindBase, 0
		}
		if key != nil {
			c.Key = contains(key, c.Name)
		}
		cols = append(cols, c)
		p.keep = append(p.keep, i)
		p.mask = append(p.mask, masked)
	}
	p.rel = vs.relation(rel, cols, p.mask, projectedKeyOrder(rel, cols, p.keep, key))
	return p
}

// projectedKeyOrder is the KeyOrder of a projection of rel to cols (keep
// maps each projected column to its index in rel). A rule's key columns
// (key non-nil) are in the order the rule lists them, as Debezium builds a
// message.key.columns key; otherwise rel's own key order carries over,
// re-indexed. nil means column order.
func projectedKeyOrder(rel *event.Relation, cols []event.Column, keep []int, key []string) []int {
	var order []int
	switch {
	case key != nil:
		for _, name := range key {
			if j := slices.IndexFunc(cols, func(c event.Column) bool { return c.Name == name }); j >= 0 && !slices.Contains(order, j) {
				order = append(order, j)
			}
		}
	case rel.KeyOrder != nil:
		for _, i := range rel.KeyOrder {
			if j := slices.Index(keep, i); j >= 0 {
				order = append(order, j)
			}
		}
	}
	if slices.IsSorted(order) {
		return nil
	}
	return order
}

// apply returns a copy of ch seen through the projection; the row slices are
// new unless nothing is excluded or masked.
func (p *projection) apply(ch *event.Change, salt []byte) *event.Change {
	out := *ch
	out.Relation = p.rel
	if p.same {
		return &out
	}
	out.Before = p.row(ch.Before, salt)
	out.After = p.row(ch.After, salt)
	return &out
}

func (p *projection) row(row []any, salt []byte) []any {
	if row == nil {
		return nil
	}
	out := make([]any, len(p.keep))
	for j, i := range p.keep {
		if i >= len(row) {
			break
		}
		v := row[i]
		if p.mask[j] {
			v = maskValue(v, salt)
		}
		out[j] = v
	}
	return out
}

// maskValue replaces a value with the lower-case hex SHA-256 of salt
// followed by the value's text (textOf). NULL stays NULL, and unchanged TOAST
// or absent values keep their marker: there is nothing to hash. For text
// columns this equals PostgreSQL's
// encode(sha256(convert_to(salt || col, 'UTF8')), 'hex').
func maskValue(v any, salt []byte) any {
	switch v.(type) {
	case nil, event.Unavailable, event.Absent:
		return v
	}
	s, _ := textOf(v)
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}
