package checkpoint

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/walrelay/walrelay/event"
)

// Catchup is a snapshot of tables added to the capture set after a
// checkpoint was stored (a longer postgres.tables, new rules): the stream
// only carries their changes from the moment they were published, so their
// existing rows are read once, from a snapshot exported at Boundary, and
// published as read events. Their streamed changes that committed before
// Boundary are in that snapshot and are not published again.
//
// It is stored with the checkpoint, so that a restart neither loses it nor
// publishes a change twice across it: recorded with Boundary 0 before the
// tables join the publication (the snapshot is still to take), with
// Boundary set once Kafka has every row of the snapshot, and dropped with
// the first checkpoint at or past Boundary.
type Catchup struct {
	Tables   []string  // schema.table, sorted
	Boundary event.LSN // the snapshot's consistent point; 0 while it is still to take
}

// Covers reports whether a change of table (schema.table) that committed
// at commit is in the catch-up snapshot, and so must not be published.
func (c *Catchup) Covers(table string, commit event.LSN) bool {
	if c == nil || c.Boundary == 0 || commit >= c.Boundary {
		return false
	}
	_, found := slices.BinarySearch(c.Tables, table)
	return found
}

// Merge returns a catch-up of c's tables and tables, to be taken again
// (Boundary 0): a new snapshot covers the old tables as well as a later
// boundary does.
func (c *Catchup) Merge(tables []string) *Catchup {
	all := slices.Clone(tables)
	if c != nil {
		all = append(all, c.Tables...)
	}
	slices.Sort(all)
	return &Catchup{Tables: slices.Compact(all)}
}

// catchupJSON is the stored form: {"tables":["public.a"],"boundary":"0/16B3748"}.
type catchupJSON struct {
	Tables   []string `json:"tables"`
	Boundary string   `json:"boundary"`
}

func (c *Catchup) toJSON() *catchupJSON {
	if c == nil {
		return nil
	}
	return &catchupJSON{Tables: c.Tables, Boundary: c.Boundary.String()}
}

func (j *catchupJSON) catchup() (*Catchup, error) {
	if j == nil {
		return nil, nil
	}
	lsn, ok := parseLSN(j.Boundary)
	if !ok {
		return nil, fmt.Errorf("catch-up boundary %q is not an LSN", j.Boundary)
	}
	tables := slices.Clone(j.Tables)
	slices.Sort(tables)
	return &Catchup{Tables: tables, Boundary: lsn}, nil
}

// marshalCatchup is the JSON of c, nil (SQL NULL) for none.
func marshalCatchup(c *Catchup) ([]byte, error) {
	if c == nil {
		return nil, nil
	}
	return json.Marshal(c.toJSON())
}

// unmarshalCatchup parses what marshalCatchup wrote; nil or empty is none.
func unmarshalCatchup(b []byte) (*Catchup, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var j catchupJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("catch-up is not valid JSON: %w", err)
	}
	return j.catchup()
}
