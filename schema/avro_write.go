package schema

import (
	"fmt"
	"math"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/event"
)

// avroField is one field of a Key or Value record: the column it reads
// (index into the row), its type, whether it is optional (["null", T]), and
// what an unchanged TOAST value (event.Unavailable) becomes.
type avroField struct {
	name     string
	col      int
	column   *event.Column
	t        *avroType
	optional bool
	// ph replaces event.Unavailable: the TOAST placeholder in the column's
	// shape, or nil (written as null) where the type cannot hold it.
	ph any
}

// nullish reports whether v is written as null in type t: NULL, a column
// absent from an old tuple, or a numeric NaN/±Infinity that a decimal
// (precise mode) cannot carry.
func nullish(v any, t *avroType) bool {
	switch x := v.(type) {
	case nil, event.Absent:
		return true
	case event.Decimal:
		return x.Special != "" && (t.kind == kindDecimal || t.kind == kindVarDecimal)
	}
	return false
}

// write writes v as f's value: the union branch for an optional field, then
// the value. A required (key) field cannot be null.
func (f *avroField) write(w *avro.Writer, v any) error {
	if _, ok := v.(event.Unavailable); ok {
		v = f.ph
	}
	switch {
	case !nullish(v, f.t):
		if f.optional {
			w.WriteLong(1)
		}
		return writeValue(w, f.t, v)
	case f.optional:
		w.WriteLong(0)
		return nil
	}
	if d, ok := v.(event.Decimal); ok && d.Special != "" {
		return fmt.Errorf("numeric %s in key column: %w", d.Special, ErrUnrepresentableKey)
	}
	return fmt.Errorf("NULL in key column: %w", ErrUnsupportedValue)
}

// writeRow writes a Value or Key record's fields from row.
func writeRow(w *avro.Writer, fields []avroField, row []any, what string) error {
	for i := range fields {
		f := &fields[i]
		if err := f.write(w, row[f.col]); err != nil {
			return fmt.Errorf("%s column %q (%s): %w", what, f.column.Name, f.column.TypeName, err)
		}
	}
	return nil
}

// writeValue writes a non-null value of type t.
func writeValue(w *avro.Writer, t *avroType, v any) error {
	switch t.kind {
	case kindBoolean:
		if b, ok := v.(bool); ok {
			w.WriteBool(b)
			return nil
		}
	case kindInt:
		if n, ok := intValue(v, t); ok {
			w.WriteInt(n)
			return nil
		}
	case kindLong:
		if n, ok := longValue(v, t); ok {
			w.WriteLong(n)
			return nil
		}
	case kindFloat:
		if f, ok := v.(float32); ok {
			w.WriteFloat(f)
			return nil
		}
	case kindDouble:
		if f, ok := floatValue(v); ok {
			w.WriteDouble(f)
			return nil
		}
	case kindString:
		if t.bin != BinaryBytes {
			if b, ok := v.([]byte); ok {
				w.WriteString(binaryText(b, t.bin))
				return nil
			}
		}
		if s, ok := stringValue(v); ok {
			w.WriteString(s)
			return nil
		}
	case kindBytes:
		return writeBytes(w, v)
	case kindDecimal, kindVarDecimal:
		return writeDecimal(w, t, v)
	case kindGeometry:
		if g, ok := v.(event.Geometry); ok {
			w.WriteBytes(g.WKB)
			if !g.HasSRID {
				w.WriteLong(0) // srid: null
				return nil
			}
			w.WriteLong(1)
			w.WriteInt(g.SRID)
			return nil
		}
	case kindPoint:
		if p, ok := v.(event.Point); ok {
			w.WriteDouble(p.X)
			w.WriteDouble(p.Y)
			w.WriteLong(1) // wkb: the bytes branch
			w.WriteBytes(pointWKB(p))
			w.WriteLong(0) // srid: null
			return nil
		}
	case kindArray:
		if a, ok := v.([]any); ok {
			return writeArray(w, t.elem, a)
		}
	}
	return fmt.Errorf("%T value for Avro %s: %w", v, t.kind, ErrUnsupportedValue)
}

func intValue(v any, t *avroType) (int32, bool) {
	switch x := v.(type) {
	case event.MicroTime:
		if t.milli {
			return int32(microsToMillis(int64(x))), true
		}
	case int32:
		return x, true
	case int16:
		return int32(x), true
	case event.Date:
		return int32(x), true
	case int8:
		return int32(x), true
	case string:
		if t.inf == infDate {
			switch x {
			case "infinity":
				return DatePositiveInfinity, true
			case "-infinity":
				return DateNegativeInfinity, true
			}
		}
	}
	return 0, false
}

func longValue(v any, t *avroType) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case event.MicroTimestamp:
		if t.milli {
			return microsToMillis(int64(x)), true
		}
		return int64(x), true
	case event.FarTimestamp:
		return farTimestamp(x, t.milli), true
	case event.MicroTime:
		return int64(x), true
	case event.MicroDuration:
		return int64(x), true
	case event.Interval: // interval.handling.mode numeric
		return int64(x.MicroDuration()), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int:
		return int64(x), true
	case string:
		if t.inf == infTimestamp {
			return timestampInfinity(x, t.milli)
		}
	}
	return 0, false
}

// timestampInfinity returns Debezium's value of a ±infinity timestamp: the
// µs constants, or those divided by 1000 (rounding down) for a ms type.
func timestampInfinity(s string, milli bool) (int64, bool) {
	var v int64
	switch s {
	case "infinity":
		v = TimestampPositiveInfinity
	case "-infinity":
		v = TimestampNegativeInfinity
	default:
		return 0, false
	}
	if milli {
		v = microsToMillis(v)
	}
	return v, true
}

func floatValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case event.Decimal: // decimal.handling.mode double
		return x.Float64(), true
	}
	return math.NaN(), false
}

func stringValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case event.JSON:
		return string(x), true
	case event.Enum:
		return string(x), true
	case event.Decimal: // decimal.handling.mode string
		return decimalText(x), true
	case event.HStore:
		return hstoreJSON(x), true
	case event.Geometry: // an element of a PostGIS array
		return geometryText(x), true
	case event.Interval: // interval.handling.mode string
		return intervalText(x), true
	}
	return "", false
}

func writeBytes(w *avro.Writer, v any) error {
	switch x := v.(type) {
	case []byte:
		w.WriteBytes(x)
	case event.Bits:
		w.WriteBytes(x.Bytes)
	case bool: // a one-bit value in a Bits column
		b := byte(0)
		if x {
			b = 1
		}
		w.WriteLong(1)
		_, _ = w.Write([]byte{b})
	default:
		return fmt.Errorf("%T value for Avro bytes: %w", v, ErrUnsupportedValue)
	}
	return nil
}

// writeDecimal writes a Decimal as bytes at t's fixed scale, or as a
// VariableScaleDecimal {scale, value} at its own scale without trailing
// zeros.
func writeDecimal(w *avro.Writer, t *avroType, v any) error {
	d, ok := v.(event.Decimal)
	if !ok {
		return fmt.Errorf("%T value for a decimal: %w", v, ErrUnsupportedValue)
	}
	scale := t.scale
	if t.kind == kindVarDecimal {
		d = stripTrailingZeros(d)
		scale = d.Scale
		w.WriteInt(scale)
	}
	var tmp [24]byte
	raw, err := appendUnscaled(tmp[:0], d, scale)
	if err != nil {
		return err
	}
	w.WriteBytes(raw)
	return nil
}

// writeArray writes an array of optional elements. A multi-dimensional
// array (nested []any) is written flattened in row-major order, one block
// per innermost array, since the schema has one dimension.
func writeArray(w *avro.Writer, elem *avroType, a []any) error {
	if err := writeBlocks(w, elem, a); err != nil {
		return err
	}
	w.WriteLong(0)
	return nil
}

func writeBlocks(w *avro.Writer, elem *avroType, a []any) error {
	nested := false
	for _, e := range a {
		if _, ok := e.([]any); ok {
			nested = true
			break
		}
	}
	if !nested {
		if len(a) == 0 {
			return nil
		}
		w.WriteLong(int64(len(a)))
		for i, e := range a {
			if err := writeElem(w, elem, e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	}
	for i, e := range a {
		if sub, ok := e.([]any); ok {
			if err := writeBlocks(w, elem, sub); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
			continue
		}
		w.WriteLong(1)
		if err := writeElem(w, elem, e); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	return nil
}

func writeElem(w *avro.Writer, elem *avroType, v any) error {
	if nullish(v, elem) {
		w.WriteLong(0)
		return nil
	}
	w.WriteLong(1)
	return writeValue(w, elem, v)
}
