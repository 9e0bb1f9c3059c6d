package schema

import (
	"crypto/md5"
	"encoding/hex"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// placeholders holds the values an Unavailable (unchanged TOAST) column can
// take; placeholderFor picks one per column type. They are built once per
// encoder and shared; encoders only read them.
type placeholders struct {
	text       string
	bytes      []byte
	textArray  []any // [placeholder]
	bytesArray []any // [placeholder's bytes]
	intArray   []any // its bytes as int32 numbers (Java's signed byte values)
	longArray  []any // its bytes as int64 numbers
	uuidArray  []any // [UUID.nameUUIDFromBytes(placeholder)]
}

func newPlaceholders(text string) *placeholders {
	p := &placeholders{
		text:       text,
		bytes:      []byte(text),
		textArray:  []any{text},
		bytesArray: []any{[]byte(text)},
		uuidArray:  []any{nameBasedUUID([]byte(text))},
	}
	for _, b := range p.bytes {
		p.intArray = append(p.intArray, int32(int8(b)))
		p.longArray = append(p.longArray, int64(int8(b)))
	}
	return p
}

// placeholderFor returns what an unavailable (unchanged TOAST) value of col,
// whose type (with the encoder's modes applied) is t, becomes in both
// formats, following Debezium's UnchangedToastedPlaceholder and
// UnchangedToastedReplicationMessageColumn where the type can hold it:
//
//	string types                    the placeholder
//	bytes (bytea, bit(n), varbit)   its bytes
//	arrays of strings               [placeholder]; uuid[] [the placeholder's
//	                                name-based UUID] (Debezium's
//	                                b68a35a7-17ad-35b3-af2a-ae46edb4545a for
//	                                the default placeholder)
//	arrays of bytes                 [its bytes]
//	int4[], date[] (adaptive)       its bytes as int32 numbers
//	int8[]                          its bytes as int64 numbers
//	anything else                   nil, written as null
//
// Anything else (numeric in precise or double mode, bool, int2, oid, floats,
// temporal types, Point, PostGIS, and arrays of those) is nil: such a type
// cannot hold the placeholder, and Debezium leaves the field null there
// (its converter rejects the placeholder string for the field's schema).
// Synthetic element values are never made for a type Debezium has no
// placeholder list for. A domain follows its base type (the decoder
// describes it, and arrays of it, by the base type). Called when an encoder
// plans a relation (Avro) or meets an unchanged TOAST value (JSON), never per
// ordinary value.
func placeholderFor(t *avroType, col *event.Column, p *placeholders) any {
	switch t.kind {
	case kindString:
		return p.text
	case kindBytes:
		return p.bytes
	case kindArray:
		return arrayPlaceholder(t.elem, col, p)
	}
	return nil
}

// arrayPlaceholder is placeholderFor of an array whose elements are elem.
func arrayPlaceholder(elem *avroType, col *event.Column, p *placeholders) any {
	var oid uint32
	if col != nil {
		oid = col.ElemOID
	}
	switch elem.kind {
	case kindString:
		if elem.name == nameUUID {
			return p.uuidArray
		}
		return p.textArray
	case kindBytes:
		return p.bytesArray
	case kindInt:
		if oid == pgtype.Int4OID || oid == pgtype.DateOID && elem.name == nameDate {
			return p.intArray
		}
	case kindLong:
		if oid == pgtype.Int8OID {
			return p.longArray
		}
	}
	return nil
}

// nameBasedUUID is Java's UUID.nameUUIDFromBytes: the MD5 of b as a version 3,
// IETF-variant UUID in its lower-case text form.
func nameBasedUUID(b []byte) string {
	sum := md5.Sum(b)
	sum[6] = sum[6]&0x0f | 0x30
	sum[8] = sum[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], sum[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], sum[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], sum[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], sum[8:10])
	out[23] = '-'
	hex.Encode(out[24:], sum[10:])
	return string(out[:])
}
