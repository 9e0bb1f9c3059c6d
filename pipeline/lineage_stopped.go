package pipeline

import (
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
// how many columns it had and has, and the names of the columns added,
// dropped and retyped (a column renamed is one dropped and one added).
func logStoppedChanges(log zerolog.Logger, cs []filter.StoppedChange) {
	for _, c := range cs {
		ev := log.Info().Str("table", c.Table).Uint32("oid", c.OID).
			Int("columns_before", len(c.Before)).Int("columns", len(c.After))
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
