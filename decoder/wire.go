package decoder

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"
)

// pglogrepl's decoders index their input without bounds checks, so a
// truncated or corrupt message would panic inside pglogrepl.Parse. parse
// first walks the message with checkFrame, which accepts exactly the protocol
// v1 layouts pglogrepl can decode safely, and only then calls Parse.
//
// Insert, Update and Delete, one per row, do not go through pglogrepl: its
// TupleData copies every column into its own allocation. parseDML (dml.go)
// reads them in place with the same bounds-checked frame reader.

var errShort = errors.New("message truncated")

// parse validates data and decodes it with pglogrepl.Parse.
func parse(data []byte) (pglogrepl.Message, error) {
	if err := checkFrame(data); err != nil {
		return nil, err
	}
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse %q message: %w", data[0], err)
	}
	return msg, nil
}

// checkFrame verifies that data is a complete pgoutput v1 message of a type
// the decoder hands to pglogrepl (all but Insert, Update and Delete), with
// every length and terminator in bounds.
func checkFrame(data []byte) error {
	if len(data) == 0 {
		return errors.New("empty message")
	}
	r := frame{b: data[1:]}
	switch data[0] {
	case 'B':
		r.skip(20) // final LSN, commit time, xid
	case 'C':
		r.skip(25) // flags, commit LSN, end LSN, commit time
	case 'O':
		r.skip(8)
		r.cstring()
	case 'Y':
		r.skip(4)
		r.cstring()
		r.cstring()
	case 'R':
		r.relation()
	case 'T':
		n := r.uint32()
		r.skip(1)
		if r.err == nil && uint64(n)*4 != uint64(len(r.b)) {
			r.fail(fmt.Errorf("truncate of %d relations carries %d bytes of OIDs", n, len(r.b)))
		}
		r.skip(len(r.b))
	case 'M':
		r.skip(9) // flags, LSN
		r.cstring()
		r.skip(int(r.uint32()))
	default:
		return fmt.Errorf("unsupported message type %q", data[0])
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", len(r.b)))
	}
	if r.err != nil {
		return fmt.Errorf("malformed %q message: %w", data[0], r.err)
	}
	return nil
}

// frame is a bounds-checked reader; after the first error every read is a
// no-op returning zero.
type frame struct {
	b   []byte
	err error
}

func (r *frame) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *frame) skip(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || n > len(r.b) {
		r.fail(errShort)
		return
	}
	r.b = r.b[n:]
}

func (r *frame) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *frame) uint16() uint16 {
	if r.err != nil || len(r.b) < 2 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *frame) uint32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *frame) cstring() {
	if r.err != nil {
		return
	}
	i := bytes.IndexByte(r.b, 0)
	if i < 0 {
		r.fail(errors.New("unterminated string"))
		return
	}
	r.b = r.b[i+1:]
}

// relation: OID, namespace, name, replica identity, then per column flags,
// name, type OID and typmod.
func (r *frame) relation() {
	r.skip(4)
	r.cstring()
	r.cstring()
	r.skip(1)
	n := r.uint16()
	for i := 0; i < int(n) && r.err == nil; i++ {
		r.skip(1)
		r.cstring()
		r.skip(8)
	}
}
