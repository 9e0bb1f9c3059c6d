package filter

import (
	"time"
)

// deleteVerdict is what a where expression does with the deletes of a
// table, as deleteVerdict finds it.
type deleteVerdict int

const (
	deletePasses  deleteVerdict = iota // true for every delete tried
	deleteRejects                      // false for some delete tried
	deleteFails                        // an error for every delete tried
)

// deleteVerdict evaluates p on deletes of t as the pipeline sees them: op
// "delete", row and before holding t's replica identity columns only (the
// others nil), after nil. The identity columns' values are unknown, so it
// tries several (identityRounds): p passes deletes when every round is
// true, rejects them when a round is false, and fails when every round
// is an error (a round that errors, next to others that do not, is taken
// to come from a value the column cannot hold when t's Types are unknown).
func (p *predicate) deleteVerdict(t Table) deleteVerdict {
	errs, rounds := 0, identityRounds(t)
	for _, old := range rounds {
		ok, err := p.eval(&exprEnv{Row: old, Before: old, Op: OpDelete})
		switch {
		case err != nil:
			errs++
		case !ok:
			return deleteRejects
		}
	}
	if errs == len(rounds) {
		return deleteFails
	}
	return deletePasses
}

// identityRounds returns the old rows that deleteVerdict tries: in round
// i, identity column j holds candidate i, then candidate i+j, of the
// values of its type (identityCandidates), so that each column takes each
// of its values and columns differ from each other.
func identityRounds(t Table) []map[string]any {
	var cols []string
	var cands [][]any
	for i, c := range t.Columns {
		if !contains(t.Identity, c) {
			continue
		}
		ct := ColumnType{}
		if i < len(t.Types) {
			ct = t.Types[i]
		}
		cols = append(cols, c)
		cands = append(cands, identityCandidates(ct))
	}
	n := 1
	for _, cs := range cands {
		n = max(n, len(cs))
	}
	var out []map[string]any
	for shift := 0; shift < 2; shift++ {
		for i := 0; i < n; i++ {
			row := make(map[string]any, len(cols))
			for j, c := range cols {
				row[c] = cands[j][(i+shift*j)%len(cands[j])]
			}
			out = append(out, row)
		}
	}
	return out
}

// identityCandidates returns values a column of type ct may hold, as a
// where expression sees them (exprValue): zero, small, negative and large
// ones; of several kinds when the type is unknown. NULL is not among them:
// a replica identity index's columns are NOT NULL, and so are a primary
// key's.
func identityCandidates(ct ColumnType) []any {
	switch exprTypeName(ct) {
	case "int":
		return []any{0, 1, -1, 1 << 30}
	case "int64":
		return []any{int64(0), int64(1), int64(-1), int64(1) << 40}
	case "float64":
		return []any{0.0, 1.5, -1.0, 1e12}
	case "bool":
		return []any{false, true}
	case "time.Time":
		return []any{time.Unix(0, 0).UTC(), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}
	case "time.Duration":
		return []any{time.Duration(0), time.Hour, -time.Minute}
	case "list":
		return []any{[]any{}, []any{"a", 1}}
	case "map":
		return []any{map[string]any{}, map[string]any{"x": 1.0, "y": 2.0, "wkb": "", "srid": 4326}}
	case "string":
		return []any{"", "a", "zz-9"}
	}
	return []any{0, "", int64(1) << 40, "a", 1.5, -1}
}
