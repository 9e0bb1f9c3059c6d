package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrWireFormat: bytes that are not a Confluent wire-format message.
var ErrWireFormat = errors.New("not a Confluent wire-format message")

// AppendWire appends the Confluent wire format of an Avro payload: magic
// byte 0, the schema ID as 4 bytes big-endian, then the payload.
func AppendWire(dst []byte, id uint32, payload []byte) []byte {
	var h [wireHeaderLen]byte
	binary.BigEndian.PutUint32(h[1:], id)
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// ParseWire splits a Confluent wire-format message into its schema ID and
// Avro payload (which aliases b). It fails on fewer than 5 bytes or a magic
// byte other than 0.
func ParseWire(b []byte) (id uint32, payload []byte, err error) {
	if len(b) < wireHeaderLen {
		return 0, nil, fmt.Errorf("%d bytes, need at least %d: %w", len(b), wireHeaderLen, ErrWireFormat)
	}
	if b[0] != 0 {
		return 0, nil, fmt.Errorf("magic byte %#x, want 0: %w", b[0], ErrWireFormat)
	}
	return binary.BigEndian.Uint32(b[1:wireHeaderLen]), b[wireHeaderLen:], nil
}
