package pipeline

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/filter"
)

// StoppedChangeMessage is the info line of a captured table whose columns
// changed while walrelay was stopped (filter.Rules.StoppedChanges): the
// decoder logs a process's first relation of a table at debug only, and
// "relation changed" only for a change it sees, so without it a column
// added, dropped or retyped while walrelay was stopped leaves no info trace
// (with the JSON format; Avro logs the new schema it registers).
const StoppedChangeMessage = "relation changed while stopped"

// logStoppedChanges logs one StoppedChangeMessage line per table of cs:
// its name now (and "formerly", the name saved, when it was renamed too),
// how many columns it had and has, and the names of the columns added,
// dropped and retyped (a column renamed is one dropped and one added).
func logStoppedChanges(ctx context.Context, q filter.Querier, log zerolog.Logger, cs []filter.StoppedChange) {
	if len(cs) == 0 {
		return
	}
	names := tableNames(ctx, q, cs)
	for _, c := range cs {
		ev := log.Info().Str("table", c.Table)
		if now, ok := names[c.OID]; ok && now != c.Table {
			ev = log.Info().Str("table", now).Str("formerly", c.Table)
		}
		ev = ev.Uint32("oid", c.OID).Int("columns_before", len(c.Before)).Int("columns", len(c.After))
		if a := c.Added(); len(a) > 0 {
			ev = ev.Strs("added", a)
		}
		if d := c.Dropped(); len(d) > 0 {
			ev = ev.Strs("dropped", d)
		}
		if r := c.Retyped(); len(r) > 0 {
			ev = ev.Strs("retyped", r)
		}
		ev.Msg(StoppedChangeMessage)
	}
}

// tableNamesSQL reads the schema-qualified names of the tables $1.
const tableNamesSQL = `SELECT c.oid::int8, n.nspname::text || '.' || c.relname::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[])`

// tableNames returns the catalog's names of the tables of cs by OID; none
// when the catalog cannot be read (the lines then name the tables as saved).
func tableNames(ctx context.Context, q filter.Querier, cs []filter.StoppedChange) map[uint32]string {
	oids := make([]uint32, len(cs))
	for i, c := range cs {
		oids[i] = c.OID
	}
	out := map[uint32]string{}
	rows, err := q.Query(ctx, tableNamesSQL, oids)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var oid int64
		var name string
		if rows.Scan(&oid, &name) == nil {
			out[uint32(oid)] = name
		}
	}
	return out
}
