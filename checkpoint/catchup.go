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
//
// An incremental catch-up (snapshot.catchup: incremental) never sets
// Boundary: it reads the tables chunk by chunk while the stream goes on,
// and each checkpoint carries its cursor. Tables are the tables still to
// read, Current the one being read and After the chunk key of its last
// published row; a table leaves Tables once read, and the catch-up is
// dropped with the checkpoint past its last chunk.
type Catchup struct {
	Tables   []string  // schema.table, sorted
	Boundary event.LSN // the snapshot's consistent point; 0 while it is still to take
	// Signal is the commit LSN of the newest snapshot signal this catch-up
	// answers (walrelay snapshot); a signal at or before it, read again
	// after a restart, was handled. 0 if none.
	Signal event.LSN
	// Current and After are an incremental catch-up's cursor: the table of
	// Tables being read ("" before its first chunk) and the text form of
	// the chunk key of its last published row (nil: from its start).
	Current string
	After   []string
	// Truncated are tables of a blocking catch-up whose TRUNCATE before
	// an earlier boundary was published, with nothing of them after it:
	// downstream holds none of their rows but this catch-up's reads, so
	// their truncates before Boundary are left out like their other
	// changes (pipeline/catchup_truncate.go). Merge drops it.
	Truncated []string
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
// boundary does. An incremental cursor is kept, unless tables asks for its
// table again: that table is then read again from its start. Truncated is
// not: it may have published reads of those tables since.
func (c *Catchup) Merge(tables []string) *Catchup {
	all := slices.Clone(tables)
	out := &Catchup{}
	if c != nil {
		all = append(all, c.Tables...)
		out.Signal = c.Signal
		if c.Current != "" && !slices.Contains(tables, c.Current) {
			out.Current, out.After = c.Current, c.After
		}
	}
	slices.Sort(all)
	out.Tables = slices.Compact(all)
	return out
}

// Handled reports whether the snapshot signal committed at lsn was recorded
// already.
func (c *Catchup) Handled(lsn event.LSN) bool {
	return c != nil && c.Signal != 0 && lsn <= c.Signal
}

// catchupJSON is the stored form: {"tables":["public.a"],"boundary":"0/16B3748"},
// and for an incremental catch-up "current":"public.a","after":["42"].
type catchupJSON struct {
	Tables    []string `json:"tables"`
	Boundary  string   `json:"boundary"`
	Signal    string   `json:"signal,omitempty"`
	Current   string   `json:"current,omitempty"`
	After     []string `json:"after,omitempty"`
	Truncated []string `json:"truncated,omitempty"`
}

func (c *Catchup) toJSON() *catchupJSON {
	if c == nil {
		return nil
	}
	j := &catchupJSON{Tables: c.Tables, Boundary: c.Boundary.String(), Current: c.Current, After: c.After, Truncated: c.Truncated}
	if c.Signal != 0 {
		j.Signal = c.Signal.String()
	}
	return j
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
	c := &Catchup{Tables: tables, Boundary: lsn, Current: j.Current, After: j.After, Truncated: j.Truncated}
	if j.Signal != "" {
		if c.Signal, ok = parseLSN(j.Signal); !ok {
			return nil, fmt.Errorf("catch-up signal %q is not an LSN", j.Signal)
		}
	}
	return c, nil
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
