package schema

import "github.com/walrelay/walrelay/event"

// placeholders holds the value an Unavailable (unchanged TOAST) column takes,
// per column type, following Debezium's UnchangedToastedPlaceholder:
//
//	bytea, bit, varbit                    the placeholder's bytes; for bytea
//	                                      in a binary mode that writes text,
//	                                      the placeholder string (as
//	                                      Debezium's hex mode does)
//	_text, _varchar, _json, _jsonb        [placeholder]
//	_int4, _date                          its bytes as int32 numbers (Java's
//	                                      signed byte values)
//	_int8                                 its bytes as int64 numbers
//	any other array                       [placeholder] (Debezium prints the
//	                                      bare string; an array keeps the
//	                                      column's shape)
//	anything else                         the placeholder string
//
// The values are built once and shared; encoders only read them.
type placeholders struct {
	byteaText bool // bytea is written as text (BinaryMode)
	text      string
	bytes     []byte
	textArray []any
	intArray  []any
	longArray []any
}

func newPlaceholders(text string, bin BinaryMode) *placeholders {
	p := &placeholders{
		byteaText: bin != BinaryBytes,
		text:      text,
		bytes:     []byte(text),
		textArray: []any{text},
	}
	for _, b := range p.bytes {
		p.intArray = append(p.intArray, int32(int8(b)))
		p.longArray = append(p.longArray, int64(int8(b)))
	}
	return p
}

// forColumn returns the placeholder value for an unavailable value of col.
func (p *placeholders) forColumn(col *event.Column) any {
	switch col.TypeName {
	case "bytea":
		if p.byteaText {
			return p.text
		}
		return p.bytes
	case "bit", "varbit":
		return p.bytes
	case "_text", "_varchar", "_json", "_jsonb":
		return p.textArray
	case "_int4", "_date":
		return p.intArray
	case "_int8":
		return p.longArray
	}
	if col.Kind == event.KindArray {
		return p.textArray
	}
	return p.text
}
