package pipeline

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

// A blocking catch-up leaves out the changes of its tables that committed
// before its boundary C: its snapshot holds their outcome. A delete is the
// exception: a row deleted before C is absent from the snapshot, so no
// event of the catch-up says it is gone, yet downstream may hold it: from an
// attempt of the same catch-up that a crash interrupted after publishing
// some rows, or from the stream before a snapshot signal. So the catch-up
// remembers which rows its snapshot read (catchupKeys), and the stream
// publishes a left-out delete (or the delete half of a key change) whose row
// the snapshot does not hold. Such a row is absent at C, so the delete
// cannot overtake a newer state of its key: every later change of the key
// commits after C and follows it.

// keyPresence is what catchupKeys knows of a row.
type keyPresence int

const (
	keyUnknown keyPresence = iota // not one of the catch-up's tables, or its key is not in the image
	keyPresent                    // the snapshot read a row with this key
	keyAbsent                     // the snapshot read no row with this key
)

// catchupKeys is the set of row keys a blocking catch-up's snapshot read,
// per table: 64-bit FNV-1a hashes of the table name and the key values
// (the primary key or replica identity index; every column of a table with
// neither), sorted once the snapshot is complete. It costs 8 bytes per row.
// A hash collision would make an absent row look present, leaving its delete
// out, as before this set existed; at 64 bits that needs billions of rows.
// add runs on the session goroutine while the snapshot is published; lookup
// on the reader goroutine afterwards; never both at once.
type catchupKeys struct {
	Cols   map[string][]string `json:"tables"` // table (schema.table) -> key column names
	hashes []uint64
	idx    map[*snapshot.TablePlan][]int // add's key column indexes per table
	buf    []byte                        // hashKey's scratch space
}

func newCatchupKeys() *catchupKeys {
	return &catchupKeys{Cols: map[string][]string{}, idx: map[*snapshot.TablePlan][]int{}}
}

// add records the key of one snapshot row of t.
func (k *catchupKeys) add(t *snapshot.TablePlan, row []any) {
	idx, ok := k.idx[t]
	if !ok {
		names := keyNames(t.Relation)
		k.Cols[t.Relation.QualifiedName()] = names
		idx, _ = columnIndexes(t.Relation, names)
		k.idx[t] = idx
	}
	h, buf, ok := hashKey(k.buf, t.Relation.QualifiedName(), idx, row)
	if k.buf = buf; ok {
		k.hashes = append(k.hashes, h)
	}
}

// finish sorts the set for lookup; called once, after the last add.
func (k *catchupKeys) finish() {
	slices.Sort(k.hashes)
	k.hashes = slices.Compact(k.hashes)
}

// lookup reports whether the snapshot read the row whose image (a delete's
// old tuple) is row, of relation rel.
func (k *catchupKeys) lookup(rel *event.Relation, row []any) keyPresence {
	table := rel.QualifiedName()
	names, ok := k.Cols[table]
	if !ok {
		return keyUnknown
	}
	idx, ok := columnIndexes(rel, names)
	if !ok {
		return keyUnknown
	}
	h, buf, ok := hashKey(k.buf, table, idx, row)
	if k.buf = buf; !ok {
		return keyUnknown
	}
	if _, found := slices.BinarySearch(k.hashes, h); found {
		return keyPresent
	}
	return keyAbsent
}

// keyNames names rel's key columns, or all its columns if it has none.
func keyNames(rel *event.Relation) []string {
	idx := rel.KeyColumns()
	if len(idx) == 0 {
		idx = make([]int, len(rel.Columns))
		for i := range idx {
			idx[i] = i
		}
	}
	names := make([]string, len(idx))
	for i, c := range idx {
		names[i] = rel.Columns[c].Name
	}
	return names
}

// columnIndexes finds the columns names in rel; ok is false if one is
// missing.
func columnIndexes(rel *event.Relation, names []string) ([]int, bool) {
	idx := make([]int, len(names))
	for i, name := range names {
		idx[i] = slices.IndexFunc(rel.Columns, func(c event.Column) bool { return c.Name == name })
		if idx[i] < 0 {
			return nil, false
		}
	}
	return idx, true
}

// hashKey hashes table and the values at idx of row into 64 bits (FNV-1a);
// ok is false when a value is missing or unknown (absent from an old tuple,
// unchanged TOAST). Stream and snapshot rows are decoded by the same
// converters, so equal keys give equal hashes (as keyString relies on).
// buf is scratch space, returned for reuse.
func hashKey(buf []byte, table string, idx []int, row []any) (uint64, []byte, bool) {
	buf = append(buf[:0], table...)
	for _, i := range idx {
		if i >= len(row) {
			return 0, buf, false
		}
		switch v := row[i].(type) {
		case event.Absent, event.Unavailable:
			return 0, buf, false
		case int64:
			buf = strconv.AppendInt(append(buf, 0, 'q'), v, 10)
		case int32:
			buf = strconv.AppendInt(append(buf, 0, 'i'), int64(v), 10)
		case int16:
			buf = strconv.AppendInt(append(buf, 0, 'h'), int64(v), 10)
		case string:
			buf = append(binary.AppendUvarint(append(buf, 0, 's'), uint64(len(v))), v...)
		case []byte:
			buf = append(binary.AppendUvarint(append(buf, 0, 'b'), uint64(len(v))), v...)
		default:
			s := fmt.Sprintf("%T:%v", v, v)
			buf = append(binary.AppendUvarint(append(buf, 0, 'v'), uint64(len(s))), s...)
		}
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, c := range buf {
		h = (h ^ uint64(c)) * prime
	}
	return h, buf, true
}

// keepCatchupKeys makes keys, the rows the catch-up at boundary read, the
// session's, and saves them in the data directory (before runCatchup stores
// the boundary) for a session that starts before the stream passes it.
func (s *session) keepCatchupKeys(keys *catchupKeys, boundary event.LSN) error {
	keys.finish()
	if err := keys.save(s.cfg.DataDir, boundary); err != nil {
		return fmt.Errorf("saving the keys of the rows it read: %w", err)
	}
	s.catchupKeys, s.catchupDeletes = keys, 0
	return nil
}

// loadCatchupKeys loads the keys saved by the catch-up at boundary, which
// an earlier session took; the stream starts before the boundary. Without
// them (a data directory lost or moved) the left-out deletes stay out, as
// the warning says.
func (s *session) loadCatchupKeys(boundary event.LSN) {
	keys, err := loadCatchupKeys(s.cfg.DataDir, boundary)
	if err != nil {
		s.log.Warn().Err(err).Stringer("boundary", boundary).
			Msg("catch-up: the keys its snapshot read are not in the data directory; deletes committed before the boundary are not published, and rows they deleted may stay downstream")
		return
	}
	s.catchupKeys, s.catchupDeletes = keys, 0
}

// dropCatchupKeys removes a saved key set that no catch-up needs any more.
func (s *session) dropCatchupKeys() error {
	s.catchupKeys = nil
	if err := removeCatchupKeys(s.cfg.DataDir); err != nil {
		return fmt.Errorf("catch-up: removing the keys of a finished catch-up: %w", err)
	}
	return nil
}

// passedCatchup is called once the stream passes cu's boundary: it logs
// how many left-out deletes were published and frees the key set (its file
// goes at the next start: until the checkpoint passes the boundary a
// restart still needs it).
func (s *session) passedCatchup(cu *checkpoint.Catchup) {
	if s.catchupKeys == nil {
		return
	}
	s.log.Info().Stringer("boundary", cu.Boundary).Int("deletes_published", s.catchupDeletes).
		Msg("catch-up: the stream passed the boundary; deletes before it of rows its snapshot did not read were published")
	s.catchupKeys = nil
}

// uncoveredDelete returns, for a change the catch-up leaves out (ch), the
// delete it still must publish: ch itself, or the delete half of a key
// change, when the catch-up's snapshot read no row with the deleted key
// (see the comment at the top of this file). Otherwise nil. Called by route
// on the reader goroutine.
func (s *session) uncoveredDelete(ch *event.Change) *event.Change {
	if s.catchupKeys == nil {
		return nil
	}
	del := ch
	if ch.Op == event.OpUpdate {
		d, _, split := splitKeyChange(ch)
		if !split {
			return nil
		}
		d.KeyPeer = nil // its create is left out
		del = d
	}
	if del.Op != event.OpDelete || del.Before == nil || s.catchupKeys.lookup(del.Relation, del.Before) != keyAbsent {
		return nil
	}
	s.catchupDeletes++
	return del
}
