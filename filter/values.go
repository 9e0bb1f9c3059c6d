package filter

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/walrelay/walrelay/event"
)

// exprValue converts a column value (event/value.go types) for where
// expressions: integers to int, decimals and floats to float64 (a decimal
// beyond float64's 15-17 significant digits is rounded), text-like types to
// string, dates and timestamps to time.Time (UTC), times and intervals to
// time.Duration, arrays element-wise. NULL and unchanged TOAST values that
// Postgres did not send are nil.
func exprValue(v any, typeName string) any {
	switch x := v.(type) {
	case nil, bool, string, float64, int64:
		if s, ok := v.(string); ok && typeName == "timestamptz" {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
		}
		return v
	case int16:
		return int(x)
	case int32:
		return int(x)
	case float32:
		return float64(x)
	case event.Decimal:
		return x.Float64()
	case event.JSON:
		return string(x)
	case event.Enum:
		return string(x)
	case []byte:
		return string(x)
	case event.Date:
		return time.Unix(int64(x)*86400, 0).UTC()
	case event.MicroTimestamp:
		return time.UnixMicro(int64(x)).UTC()
	case event.FarTimestamp: // past the int64-µs range, in ms: the real date
		return time.UnixMilli(int64(x)).UTC()
	case event.MicroTime:
		return time.Duration(x) * time.Microsecond
	case event.MicroDuration:
		return time.Duration(x) * time.Microsecond
	case event.Interval: // as MicroDuration: a month counts 30.4375 days
		return time.Duration(x.MicroDuration()) * time.Microsecond
	case event.Bits:
		return bitsText(x)
	case event.Point:
		return map[string]any{"x": x.X, "y": x.Y}
	case event.Geometry:
		return map[string]any{"wkb": string(x.WKB), "srid": int(x.SRID)}
	case event.HStore:
		m := make(map[string]any, len(x))
		for _, p := range x {
			if p.Null {
				m[p.Key] = nil
			} else {
				m[p.Key] = p.Value
			}
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = exprValue(e, strings.TrimPrefix(typeName, "_"))
		}
		return out
	case event.Unavailable:
		return nil
	}
	return v
}

// bitsText renders a bit string as '0'/'1' characters, bit 0 first.
func bitsText(b event.Bits) string {
	out := make([]byte, b.Len)
	for i := range out {
		out[i] = '0'
		if i/8 < len(b.Bytes) && b.Bytes[i/8]&(1<<(i%8)) != 0 {
			out[i] = '1'
		}
	}
	return string(out)
}

// rowMap builds a where expression's view of one row: column name to
// exprValue, for the columns in only (all when only is nil); Absent columns
// (not in the old tuple's identity) are left out. A nil row gives a nil map
// (row.x is then nil).
func rowMap(rel *event.Relation, row []any, only map[string]bool) map[string]any {
	if row == nil {
		return nil
	}
	n := len(row)
	if only != nil {
		n = min(n, len(only))
	}
	m := make(map[string]any, n)
	for i, v := range row {
		if i >= len(rel.Columns) {
			break
		}
		if _, absent := v.(event.Absent); absent || only != nil && !only[rel.Columns[i].Name] {
			continue
		}
		m[rel.Columns[i].Name] = exprValue(v, rel.Columns[i].TypeName)
	}
	return m
}

// textOf renders a value as text, for masks, outbox keys, IDs and topic
// templates: text-like values as they are, numbers in decimal, bytea raw,
// dates ISO-8601. ok is false for NULL, unchanged TOAST and absent values.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case nil, event.Unavailable, event.Absent:
		return "", false
	case string:
		return x, true
	case event.JSON:
		return string(x), true
	case event.Enum:
		return string(x), true
	case []byte:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case event.Decimal:
		return x.String(), true
	case event.Date:
		return time.Unix(int64(x)*86400, 0).UTC().Format("2006-01-02"), true
	case event.MicroTimestamp:
		return time.UnixMicro(int64(x)).UTC().Format("2006-01-02T15:04:05.999999"), true
	case event.FarTimestamp:
		return time.UnixMilli(int64(x)).UTC().Format("2006-01-02T15:04:05.999999"), true
	case event.MicroTime, event.MicroDuration, event.Interval:
		return strconv.FormatInt(reflectInt(x), 10), true
	case event.Bits:
		return bitsText(x), true
	case event.HStore:
		return hstoreText(x), true
	case event.Geometry:
		return strings.ToUpper(hex.EncodeToString(x.WKB)), true
	case event.Point:
		return "(" + strconv.FormatFloat(x.X, 'g', -1, 64) + "," + strconv.FormatFloat(x.Y, 'g', -1, 64) + ")", true
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, ok := textOf(e)
			if !ok {
				s = "NULL"
			}
			parts[i] = s
		}
		return "{" + strings.Join(parts, ",") + "}", true
	}
	return fmt.Sprint(v), true
}

// hstoreText renders an hstore as PostgreSQL's text form.
func hstoreText(h event.HStore) string {
	var b strings.Builder
	for i, p := range h {
		if i > 0 {
			b.WriteString(", ")
		}
		writeHStoreQuoted(&b, p.Key)
		b.WriteString("=>")
		if p.Null {
			b.WriteString("NULL")
		} else {
			writeHStoreQuoted(&b, p.Value)
		}
	}
	return b.String()
}

// writeHStoreQuoted writes s in double quotes, '"' and '\' escaped, as
// hstore_out does.
func writeHStoreQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

func reflectInt(v any) int64 {
	switch x := v.(type) {
	case event.MicroTime:
		return int64(x)
	case event.MicroDuration:
		return int64(x)
	case event.Interval:
		return int64(x.MicroDuration())
	}
	return 0
}
