package decoder

import (
	"encoding/binary"
	"fmt"
)

// tupleCol is one column of a TupleData: kind 'n' (NULL), 'u' (unchanged
// TOAST), 't' (text) or 'b' (binary), and for 't'/'b' the bytes, which alias
// the message buffer.
type tupleCol struct {
	kind byte
	data []byte
}

// Tuple column kinds.
const (
	colNull   = 'n'
	colToast  = 'u'
	colText   = 't'
	colBinary = 'b'
)

// rowMsg is a decoded Insert ('I'), Update ('U') or Delete ('D'). old is set
// with oldKind 'K' (key columns) or 'O' (the whole old row); new is nil for a
// delete. Both slices are reused by the next parseRow on the same rowMsg.
type rowMsg struct {
	typ     byte
	relOID  uint32
	oldKind byte
	old     []tupleCol
	new     []tupleCol
}

// forget drops the references to the last message's bytes, including those
// past the slices' lengths, so that the message buffer can be collected.
func (m *rowMsg) forget() {
	clear(m.old[:cap(m.old)])
	clear(m.new[:cap(m.new)])
}

// parseRow reads an Insert, Update or Delete in place:
//
//	Insert: 'I' oid 'N' tuple
//	Update: 'U' oid ['K'|'O' tuple] 'N' tuple
//	Delete: 'D' oid ('K'|'O') tuple
//
// where tuple is a uint16 column count, then per column a kind byte and, for
// 't'/'b', a uint32 length and the bytes. It rejects anything else, including
// trailing bytes, and never reads out of bounds.
func (m *rowMsg) parse(data []byte) error {
	r := frame{b: data[1:]}
	m.typ, m.oldKind = data[0], 0
	m.old, m.new = m.old[:0], m.new[:0]
	m.relOID = r.uint32()
	switch m.typ {
	case 'I':
		m.new = r.taggedTuple('N', m.new)
	case 'U':
		if len(r.b) > 0 && (r.b[0] == 'K' || r.b[0] == 'O') {
			m.oldKind = r.byte()
			m.old = r.tuple(m.old)
		}
		m.new = r.taggedTuple('N', m.new)
	case 'D':
		m.oldKind = r.byte()
		if m.oldKind != 'K' && m.oldKind != 'O' && r.err == nil {
			r.fail(fmt.Errorf("old tuple tag %q, want 'K' or 'O'", m.oldKind))
		}
		m.old = r.tuple(m.old)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", len(r.b)))
	}
	if r.err != nil {
		return fmt.Errorf("malformed %q message: %w", m.typ, r.err)
	}
	return nil
}

func (r *frame) taggedTuple(tag byte, dst []tupleCol) []tupleCol {
	if t := r.byte(); t != tag && r.err == nil {
		r.fail(fmt.Errorf("tuple tag %q, want %q", t, tag))
	}
	return r.tuple(dst)
}

// tuple appends the columns of one TupleData to dst.
func (r *frame) tuple(dst []tupleCol) []tupleCol {
	n := int(r.uint16())
	for i := 0; i < n && r.err == nil; i++ {
		k := r.byte()
		switch k {
		case colNull, colToast:
			dst = append(dst, tupleCol{kind: k})
		case colText, colBinary:
			if len(r.b) < 4 {
				r.fail(errShort)
				break
			}
			l := binary.BigEndian.Uint32(r.b)
			r.b = r.b[4:]
			if uint64(l) > uint64(len(r.b)) {
				r.fail(errShort)
				break
			}
			dst = append(dst, tupleCol{kind: k, data: r.b[:l:l]})
			r.b = r.b[l:]
		default:
			if r.err == nil {
				r.fail(fmt.Errorf("tuple column %d has kind %q", i, k))
			}
		}
	}
	return dst
}
