package pipeline

import (
	"bytes"

	"github.com/walrelay/walrelay/event"
)

// createSuffix is the IDSuffix of the create half of a key-changing update.
const createSuffix = "-C"

// splitKeyChange turns an update that changes the row's key into a delete of
// the old key followed by a create of the new one, as Debezium does: records
// are keyed, so a single update under the new key would leave the old key
// alive forever in a compacted topic. The delete keeps the change's event ID
// (and gets its tombstone); the create's ID ends in "-C". Each half's KeyPeer
// is the other row, for Debezium's __debezium.newkey / oldkey headers. For
// any other change split is false (and nothing is allocated: this runs for
// every change).
func splitKeyChange(ch *event.Change) (del, ins *event.Change, split bool) {
	if ch.Op != event.OpUpdate || ch.Before == nil || ch.Relation == nil || !keyChanged(ch) {
		return nil, nil, false
	}
	d := *ch
	d.Op, d.After, d.KeyPeer = event.OpDelete, nil, ch.After
	i := *ch
	i.Op, i.Before, i.IDSuffix, i.KeyPeer = event.OpCreate, nil, createSuffix, ch.Before
	return &d, &i, true
}

// keyChanged reports whether any key column differs between Before and After.
func keyChanged(ch *event.Change) bool {
	for _, i := range ch.Relation.KeyColumns() {
		if i >= len(ch.Before) || i >= len(ch.After) || !sameValue(ch.Before[i], ch.After[i]) {
			return true
		}
	}
	return false
}

// sameValue compares two decoded key values.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case event.Decimal:
		y, ok := b.(event.Decimal)
		return ok && x.String() == y.String()
	case event.Bits:
		y, ok := b.(event.Bits)
		return ok && x.Len == y.Len && bytes.Equal(x.Bytes, y.Bytes)
	case []any, event.Unavailable, event.Absent:
		return false // arrays are not valid keys; an unknown value counts as changed
	}
	return a == b
}

// encode encodes a captured change, as two events when it changes its key.
// The create half of a key change takes the transaction block positions
// after its delete's, as in Debezium (delete N, create N+1); the delete
// keeps the change's (txMeta.number).
func (s *session) encode(ch *event.Change) ([]event.Record, error) {
	del, ins, split := splitKeyChange(ch)
	if !split {
		return s.enc.Encode(ch)
	}
	ins.TotalOrder++
	ins.DataCollectionOrder++
	var out []event.Record
	for _, p := range [2]*event.Change{del, ins} {
		recs, err := s.enc.Encode(p)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}
