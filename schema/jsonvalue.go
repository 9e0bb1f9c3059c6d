package schema

import (
	"fmt"
	"strconv"

	"github.com/walrelay/walrelay/event"
)

// appendRow appends a row (one value per column of rel) as a JSON object in
// column order, or null for a nil row. Every column is printed; Absent ones as
// null. names are the columns' escaped names (jsonPlan.names). A failing
// column is named in the error.
func (e *JSONEncoder) appendRow(dst []byte, rel *event.Relation, names []string, row []any) ([]byte, error) {
	if row == nil {
		return append(dst, "null"...), nil
	}
	if len(row) != len(rel.Columns) {
		return dst, fmt.Errorf("%d values for %d columns: %w", len(row), len(rel.Columns), ErrRowShape)
	}
	dst = append(dst, '{')
	for i := range rel.Columns {
		col := &rel.Columns[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		dst = append(dst, names[i]...)
		if dst, err = e.appendValue(dst, col, row[i]); err != nil {
			return dst, fmt.Errorf("column %q (%s): %w", col.Name, col.TypeName, err)
		}
	}
	return append(dst, '}'), nil
}

// appendKey appends the key object of a row: the columns with Key set, in
// key order (rel.KeyOrder, else column order, as KeyColumns); names as
// appendRow's. The caller has checked that rel has key columns. It does not
// allocate for KeyColumns' sake: it runs for every record.
func (e *JSONEncoder) appendKey(dst []byte, rel *event.Relation, names []string, row []any) ([]byte, error) {
	if len(row) != len(rel.Columns) {
		return dst, fmt.Errorf("key: %d values for %d columns: %w", len(row), len(rel.Columns), ErrRowShape)
	}
	dst = append(dst, '{')
	var err error
	if rel.KeyOrder != nil {
		for n, i := range rel.KeyOrder {
			if dst, err = e.appendKeyField(dst, n > 0, rel, names, row, i); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	n := 0
	for i := range rel.Columns {
		if !rel.Columns[i].Key {
			continue
		}
		if dst, err = e.appendKeyField(dst, n > 0, rel, names, row, i); err != nil {
			return dst, err
		}
		n++
	}
	return append(dst, '}'), nil
}

// appendKeyField appends key column i of row, after a comma if comma.
func (e *JSONEncoder) appendKeyField(dst []byte, comma bool, rel *event.Relation, names []string, row []any, i int) ([]byte, error) {
	col := &rel.Columns[i]
	if comma {
		dst = append(dst, ',')
	}
	dst = append(dst, names[i]...)
	var err error
	if d, ok := row[i].(event.Decimal); ok && d.Special != "" && e.o.DecimalMode == DecimalPrecise {
		err = fmt.Errorf("numeric %s in key column: %w", d.Special, ErrUnrepresentableKey)
	} else {
		dst, err = e.appendValue(dst, col, row[i])
	}
	if err != nil {
		return dst, fmt.Errorf("key column %q (%s): %w", col.Name, col.TypeName, err)
	}
	return dst, nil
}

// appendValue appends one column value per the mapping in the package doc.
// Elements of an array are mapped with the same column (its TypeName and
// TypeMod describe the elements too).
func (e *JSONEncoder) appendValue(dst []byte, col *event.Column, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil, event.Absent:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float32:
		return appendJSONFloat(dst, float64(x), 32), nil
	case float64:
		return appendJSONFloat(dst, x, 64), nil
	case string:
		if x == "infinity" || x == "-infinity" {
			if n, ok := infinityNumber(col, x, e.o.TimePrecision.millis(col, false)); ok {
				return strconv.AppendInt(dst, n, 10), nil
			}
		}
		return appendJSONString(dst, x), nil
	case event.JSON:
		return appendJSONString(dst, string(x)), nil
	case event.Enum:
		return appendJSONString(dst, string(x)), nil
	case event.HStore:
		return appendJSONString(dst, hstoreJSON(x)), nil
	case event.Point:
		return appendJSONPoint(dst, x), nil
	case event.Geometry:
		return appendJSONGeometry(dst, col, x), nil
	case []byte:
		if e.o.BinaryMode != BinaryBytes && isBytea(col) {
			return appendJSONString(dst, binaryText(x, e.o.BinaryMode)), nil
		}
		return appendJSONBase64(dst, x), nil
	case event.Bits:
		return appendJSONBase64(dst, x.Bytes), nil
	case event.Decimal:
		switch e.o.DecimalMode {
		case DecimalDouble:
			return appendJSONFloat(dst, x.Float64(), 64), nil
		case DecimalString:
			return appendJSONString(dst, decimalText(x)), nil
		}
		return appendJSONDecimal(dst, col, x)
	case event.Date:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case event.MicroTime:
		return appendMicros(dst, int64(x), e.o.TimePrecision.millis(col, true)), nil
	case event.MicroTimestamp:
		return appendMicros(dst, int64(x), e.o.TimePrecision.millis(col, false)), nil
	case event.FarTimestamp:
		return strconv.AppendInt(dst, farTimestamp(x, e.o.TimePrecision.millis(col, false)), 10), nil
	case event.MicroDuration:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case event.Interval:
		if e.o.IntervalMode == IntervalString {
			dst = append(dst, '"')
			return append(appendIntervalText(dst, x), '"'), nil
		}
		return strconv.AppendInt(dst, int64(x.MicroDuration()), 10), nil
	case []any:
		return e.appendArray(dst, col, x)
	case event.Unavailable:
		return e.appendPlaceholder(dst, col)
	case int8, int, uint8, uint16, uint32, uint64, uint:
		return appendOtherInt(dst, x), nil
	}
	return dst, fmt.Errorf("%T: %w", v, ErrUnsupportedValue)
}

// appendPlaceholder appends what an unchanged TOAST value of col becomes:
// the value placeholderFor gives the column's Avro type, so that both formats
// agree, or null where the type cannot hold the placeholder. Called for
// unchanged TOAST values only (it builds the column's type each time).
func (e *JSONEncoder) appendPlaceholder(dst []byte, col *event.Column) ([]byte, error) {
	if col == nil {
		return appendJSONString(dst, e.ph.text), nil
	}
	ph := placeholderFor(e.o.withModes(columnType(col), col), col, e.ph)
	if ph == nil {
		return append(dst, "null"...), nil
	}
	return e.appendValue(dst, col, ph)
}

// appendArray appends an array; nested arrays (multi-dimensional) recurse.
func (e *JSONEncoder) appendArray(dst []byte, col *event.Column, a []any) ([]byte, error) {
	dst = append(dst, '[')
	for i, el := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = e.appendValue(dst, col, el); err != nil {
			return dst, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return append(dst, ']'), nil
}

// appendJSONDecimal appends a Decimal in precise mode: base64 bytes at the
// column's fixed scale, or {"scale":s,"value":base64} for variable scale
// (trailing zeros stripped, as Debezium does), or
// null for NaN/±Infinity, which precise mode cannot carry.
func appendJSONDecimal(dst []byte, col *event.Column, d event.Decimal) ([]byte, error) {
	if d.Special != "" {
		return append(dst, "null"...), nil
	}
	repr := decimalReprOf(col)
	scale := repr.scale
	if repr.variable {
		d = stripTrailingZeros(d)
		scale = d.Scale
		dst = append(dst, `{"scale":`...)
		dst = strconv.AppendInt(dst, int64(scale), 10)
		dst = append(dst, `,"value":`...)
	}
	var tmp [24]byte
	raw, err := appendUnscaled(tmp[:0], d, scale)
	if err != nil {
		return dst, err
	}
	dst = appendJSONBase64(dst, raw)
	if repr.variable {
		dst = append(dst, '}')
	}
	return dst, nil
}

// appendMicros appends a time or timestamp in µs, or in ms when millis.
func appendMicros(dst []byte, us int64, millis bool) []byte {
	if millis {
		us = microsToMillis(us)
	}
	return strconv.AppendInt(dst, us, 10)
}

// appendOtherInt appends integer types outside value.go's contract that are
// still unambiguous numbers.
func appendOtherInt(dst []byte, v any) []byte {
	switch x := v.(type) {
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10)
	}
	return dst
}
