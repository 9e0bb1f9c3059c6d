package pipeline

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/event"
)

// A blocking catch-up leaves out the changes of its tables that committed
// before its boundary C: its snapshot holds their outcome. A delete is the
// exception: a row deleted before C is absent from the snapshot, so no
// event of the catch-up says it is gone, yet downstream may hold it: from an
// attempt of the same catch-up that a crash interrupted after publishing
// some rows, or from the stream before a snapshot signal. So the catch-up
// remembers the record keys its snapshot published (catchupKeys), and the
// stream publishes a left-out delete (or the delete half of a key change)
// whose record key the snapshot did not publish. That key is absent at C,
// so the delete cannot overtake a newer state of it: every later change of
// the key commits after C and follows it.
//
// Keys are taken as the rules project them (a rule's key:, the primary key
// otherwise, every column of a table with none), so presence means what
// compaction and consumers mean by a key: a key change under a rule's key
// publishes the delete of the old one too.

// keyPresence is what catchupKeys knows of a key.
type keyPresence int

const (
	keyUnknown keyPresence = iota // a value of the key is not in the image (absent, unchanged TOAST)
	keyPresent                    // the snapshot published a row with this key
	keyAbsent                     // the snapshot published no row with this key
)

// catchupKeys is the set of record keys a blocking catch-up's snapshot
// published: 64-bit FNV-1a hashes of the table name and the key's column
// names and values, sorted once the snapshot is complete. It costs 8 bytes
// per row. A hash collision would make an absent key look present, leaving
// its delete out, as before this set existed; at 64 bits that needs
// billions of rows. add runs on the session goroutine while the snapshot is
// published; lookup on the reader goroutine afterwards; never both at once.
type catchupKeys struct {
	hashes []uint64
	buf    []byte // hashKey's scratch space
}

func newCatchupKeys() *catchupKeys { return &catchupKeys{} }

// add records the key of a snapshot row (a read, as projected).
func (k *catchupKeys) add(rel *event.Relation, row []any) {
	h, buf, ok := hashKey(k.buf, rel, row)
	if k.buf = buf; ok {
		k.hashes = append(k.hashes, h)
	}
}

// finish sorts the set for lookup; called once, after the last add.
func (k *catchupKeys) finish() {
	slices.Sort(k.hashes)
	k.hashes = slices.Compact(k.hashes)
}

// lookup reports whether the snapshot published the key of row (a delete's
// old tuple), of relation rel (as projected).
func (k *catchupKeys) lookup(rel *event.Relation, row []any) keyPresence {
	h, buf, ok := hashKey(k.buf, rel, row)
	if k.buf = buf; !ok {
		return keyUnknown
	}
	if _, found := slices.BinarySearch(k.hashes, h); found {
		return keyPresent
	}
	return keyAbsent
}

// hashKey hashes rel's table name and its key columns' names and values in
// row into 64 bits (FNV-1a): the key columns in key order, every column of
// a table with none. ok is false when a value is missing or unknown (absent
// from an old tuple, unchanged TOAST). Stream and snapshot rows are decoded
// by the same converters, so equal keys give equal hashes (as keyString
// relies on). buf is scratch space, returned for reuse. It does not
// allocate once buf has grown.
func hashKey(buf []byte, rel *event.Relation, row []any) (uint64, []byte, bool) {
	buf = append(append(append(buf[:0], rel.Schema...), '.'), rel.Table...)
	ok := true
	switch {
	case rel.KeyOrder != nil:
		for _, i := range rel.KeyOrder {
			if buf, ok = appendKeyValue(buf, rel, row, i); !ok {
				return 0, buf, false
			}
		}
	default:
		keyed := false
		for i := range rel.Columns {
			if rel.Columns[i].Key {
				keyed = true
				if buf, ok = appendKeyValue(buf, rel, row, i); !ok {
					return 0, buf, false
				}
			}
		}
		for i := 0; !keyed && i < len(rel.Columns); i++ {
			if buf, ok = appendKeyValue(buf, rel, row, i); !ok {
				return 0, buf, false
			}
		}
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, c := range buf {
		h = (h ^ uint64(c)) * prime
	}
	return h, buf, true
}

// appendKeyValue appends column i of rel (its name) and its value in row,
// tagged with its Go type; ok is false when the value is missing or unknown.
func appendKeyValue(buf []byte, rel *event.Relation, row []any, i int) ([]byte, bool) {
	if i >= len(row) {
		return buf, false
	}
	buf = append(append(buf, 0), rel.Columns[i].Name...)
	switch v := row[i].(type) {
	case event.Absent, event.Unavailable:
		return buf, false
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
	return buf, true
}

// noteRead records the key of ch, as projected, when it is a read of the
// blocking catch-up being published (catchupBuild): route calls it for
// every change it encodes, on the session goroutine for snapshot rows.
func (s *session) noteRead(ch *event.Change) {
	if s.catchupBuild != nil && ch.Op == event.OpRead {
		s.catchupBuild.add(ch.Relation, ch.After)
	}
}

// keepCatchupKeys makes the keys the catch-up at boundary published
// (catchupBuild) the session's, and saves them in the data directory
// (before runCatchup stores the boundary) for a session that starts before
// the stream passes it.
func (s *session) keepCatchupKeys(boundary event.LSN) error {
	keys := s.catchupBuild
	s.catchupBuild = nil
	keys.finish()
	if err := keys.save(s.cfg.DataDir, boundary); err != nil {
		return fmt.Errorf("saving the keys of the rows it published: %w", err)
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

// uncoveredDelete returns, for a change the catch-up leaves out (ch, as
// the rules project it), the delete it still must publish: ch itself, or
// the delete half of a key change, when the catch-up's snapshot published
// no record with the deleted key (see the comment at the top of this
// file). Otherwise nil. Called by route on the reader goroutine.
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
