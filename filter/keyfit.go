package filter

import (
	"fmt"

	"github.com/walrelay/walrelay/internal/pgident"
)

// keyRefusals are the mistakes of rule r on table t that would publish
// records under a wrong key, for which walrelay run refuses the file
// (CheckWhere) and check FAILs (DescribeTables: Refused):
//   - without key:, an excluded column of t's primary key (or replica
//     identity index): the record key would lose it, and a table keyed by
//     it alone is published with an empty key;
//   - a key column t lacks: t's records have an empty key (so no per-key
//     order: they spread over partitions);
//   - a key column outside t's replica identity, when the rule publishes
//     t's updates or deletes: a delete's old row lacks it, so its key has
//     the column null (JSON) or fails to encode (Avro, a key field is not
//     nullable), and an update of it is not published as a key change.
//
// A drop or outbox rule publishes no record keyed this way: nil.
func (rs *Rules) keyRefusals(r *Rule, t Table) []*Error {
	if r.Drop || r.Outbox != nil {
		return nil
	}
	var out []*Error
	if r.Key == nil {
		for _, c := range r.Exclude {
			if contains(t.Key, c) || t.IdentityKind == "i" && contains(t.Identity, c) {
				out = append(out, &Error{File: rs.File, Pos: r.colPos[c],
					Msg: fmt.Sprintf("rules[%d]: excluded column %q is part of %s's %s; the record key would lose it", r.Index, c, t.QualifiedName(), keyKind(t, c)),
					Fix: "mask it instead, or keep it (or give the rule a key: of other columns)"})
			}
		}
	}
	for _, c := range r.Key {
		switch {
		case !contains(t.Columns, c):
			out = append(out, rs.missingColumn(r, t, r.keyPos[c], "key", c))
		case keyOutsideIdentity(r, t, c):
			out = append(out, rs.keyIdentityError(r, t, c))
		}
	}
	return out
}

// keyWarnings are the key columns of rule r outside t's replica identity
// that do no harm: t has none (no primary key, or NOTHING), so PostgreSQL
// refuses its updates and deletes while the publication publishes them, or
// the rule publishes neither. walrelay run takes them; check warns.
func (rs *Rules) keyWarnings(r *Rule, t Table) []*Error {
	if r.Drop || r.Outbox != nil {
		return nil
	}
	var out []*Error
	for _, c := range r.Key {
		if contains(t.Columns, c) && !contains(t.Identity, c) && !keyOutsideIdentity(r, t, c) {
			out = append(out, rs.keyIdentityError(r, t, c))
		}
	}
	return out
}

// keyOutsideIdentity reports whether key column c of rule r, which t has,
// is missing from the old row of t's deletes and key changes that r
// publishes: t has a replica identity without c and r decides updates or
// deletes.
func keyOutsideIdentity(r *Rule, t Table, c string) bool {
	return len(t.Identity) > 0 && !contains(t.Identity, c) && r.ops&(opUpdate|opDelete) != 0
}

// keyIdentityError reports key column c of rule r outside t's replica identity.
func (rs *Rules) keyIdentityError(r *Rule, t Table, c string) *Error {
	return &Error{File: rs.File, Pos: r.keyPos[c],
		Msg: fmt.Sprintf("rules[%d]: key column %q of %s is not in its replica identity (%s), so a delete's key would have it null and an update of it would not be a key change: both would leave the row's events under two keys",
			r.Index, c, t.QualifiedName(), identityText(t)),
		Fix: fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL; or key by replica identity columns only", pgident.SQL(t.Schema, t.Name))}
}

// keyKind names what makes c a key column of t: "primary key" or
// "replica identity index".
func keyKind(t Table, c string) string {
	if contains(t.Key, c) {
		return "primary key"
	}
	return "replica identity index"
}
