package event

import (
	"math"
	"math/big"
	"strconv"
)

// Column values in Change.Before/After use these Go types, chosen so that each
// maps directly onto Debezium's default representation (decimal.handling.mode
// =precise, time.precision.mode=adaptive):
//
//	NULL                                   nil
//	bool                                   bool
//	int2 / int4 / int8, oid                int16 / int32 / int64 (oid: int64)
//	float4 / float8                        float32 / float64
//	numeric(p,s)                           Decimal (Scale = s)
//	numeric (unconstrained)                Decimal (Scale as stored; VariableScaleDecimal)
//	money                                  Decimal with Scale 2
//	text, varchar, bpchar, name, char      string
//	bytea                                  []byte
//	date                                   Date (days since 1970-01-01)
//	time                                   MicroTime (µs since midnight)
//	timetz                                 string, ISO-8601 in UTC: "15:04:05.999999Z"
//	timestamp                              MicroTimestamp (µs since epoch, wall clock);
//	                                       FarTimestamp past the int64-µs range
//	timestamptz                            string, ISO-8601 in UTC: "2006-01-02T15:04:05.999999Z"
//	interval                               Interval (months, days, µs, as PostgreSQL keeps them)
//	uuid                                   string (lower-case, hyphenated)
//	json, jsonb                            JSON (the document's text)
//	enum types                             Enum (the label)
//	hstore (extension, by type name)       HStore (its pairs in stored order)
//	point                                  Point
//	PostGIS geometry, geography (by name)  Geometry (EWKB and its SRID)
//	bit(1)                                 bool
//	bit(n), varbit                         Bits
//	inet, cidr, macaddr, macaddr8          string (Postgres' text form)
//	ranges, other geometric, xml, others   string (Postgres' text form)
//	arrays                                 []any of the element's Go type
//	infinity dates/timestamps              string "infinity" / "-infinity"
//	numeric NaN/±Infinity                  Decimal with Special set
//	unchanged TOAST value not sent         Unavailable
//	not part of the old tuple's identity   Absent
//
// Encoders turn Unavailable into the configured placeholder
// ("__debezium_unavailable_value" by default) and leave Absent columns out.

// Decimal is an exact decimal: Unscaled × 10^-Scale. Special is "NaN",
// "Infinity" or "-Infinity" for those numeric values, with Unscaled nil.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
	Special  string
}

// String renders the decimal in plain notation, e.g. "-12.50".
func (d Decimal) String() string {
	if d.Special != "" {
		return d.Special
	}
	if d.Unscaled == nil {
		return "0"
	}
	r := new(big.Rat).SetFrac(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
	return r.FloatString(int(max(d.Scale, 0)))
}

// Float64 returns d as the nearest float64, as Java's
// BigDecimal.doubleValue does (correctly rounded; ±Inf beyond the range),
// and NaN or ±Inf for the special values.
func (d Decimal) Float64() float64 {
	switch d.Special {
	case "NaN":
		return math.NaN()
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if d.Unscaled == nil {
		return 0
	}
	if d.Scale == 0 && d.Unscaled.IsInt64() {
		if v := d.Unscaled.Int64(); v > -1<<53 && v < 1<<53 {
			return float64(v) // exact
		}
	}
	f, _ := strconv.ParseFloat(d.String(), 64) // correctly rounded
	return f
}

// Date is a date as days since 1970-01-01 (io.debezium.time.Date).
type Date int32

// MicroTime is a time of day in microseconds (io.debezium.time.MicroTime).
type MicroTime int64

// MicroTimestamp is a timestamp without time zone as microseconds since the
// epoch of its wall-clock reading (io.debezium.time.MicroTimestamp).
type MicroTimestamp int64

// FarTimestamp is a timestamp without time zone too late for
// MicroTimestamp's int64 microseconds (after 294247-01-10 04:00:54.775807,
// up to PostgreSQL's 294276-12-31 23:59:59.999999): milliseconds since the
// epoch of its wall-clock reading, rounded down, which still fit int64.
// Encoders write it as those milliseconds where the column's values are in
// milliseconds (time_precision_mode connect, timestamp(0..3)), and as
// math.MaxInt64 where they are in microseconds (the int64 µs clamp;
// "infinity" is Debezium's 9223372036825200000, a little lower).
type FarTimestamp int64

// MicroDuration is an interval in microseconds (io.debezium.time.MicroDuration).
// The decoder produces Interval for interval columns; encoders accept both.
type MicroDuration int64

// Interval is an interval value as PostgreSQL stores it: Months (a year is
// 12), Days and Micros (the time part in µs, hours unbounded), each with its
// own sign. "1 year 2 mons -3 days +04:05:06.78" is {14, -3, 14706780000};
// "-00:00:01.5" is {0, 0, -1500000}. Encoders write it as
// io.debezium.time.MicroDuration (see MicroDuration) or, with
// interval_handling_mode string, as io.debezium.time.Interval
// ("P1Y2M-3DT4H5M6.78S").
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// MicroDuration returns iv in microseconds as Debezium's
// io.debezium.time.MicroDuration counts it: a month is 30.4375 days
// (365.25 / 12), a day 24 hours. Exact (Debezium sums in double and may be
// a microsecond off on fractional seconds). Each product and sum saturates
// at the int64 range instead of wrapping; Java's (long) cast saturates
// Debezium's double total alike, except where a saturated part meets a
// large one of the other sign.
func (iv Interval) MicroDuration() MicroDuration {
	const (
		usPerDay   = 86_400_000_000
		usPerMonth = 2_629_800_000_000 // 30.4375 days
	)
	us := satAdd(satMul(int64(iv.Months), usPerMonth), satMul(int64(iv.Days), usPerDay))
	return MicroDuration(satAdd(us, iv.Micros))
}

// satAdd and satMul are int64 arithmetic that saturates instead of wrapping.
func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		if (a < 0) != (b < 0) {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return p
}

// JSON is the text of a json or jsonb value (io.debezium.data.Json).
type JSON string

// Enum is an enum label (io.debezium.data.Enum).
type Enum string

// Bits is a bit string of Len bits (io.debezium.data.Bits): Bytes holds them
// little-endian by byte as Debezium does (java.util.BitSet.toByteArray).
type Bits struct {
	Len   int
	Bytes []byte
}

// Point is a point's coordinates (io.debezium.data.geometry.Point).
type Point struct{ X, Y float64 }

// Geometry is a PostGIS geometry or geography value: its EWKB (as
// PostgreSQL prints it, hex-decoded) and the SRID read from it (HasSRID
// false when it has none), as Debezium keeps them
// (io.debezium.data.geometry.Geometry / Geography).
type Geometry struct {
	WKB       []byte
	SRID      int32
	HasSRID   bool
	Geography bool
}

// HStore is an hstore value: its pairs in the order PostgreSQL stores them
// (by key length, then bytes). Debezium's default hstore.handling.mode=json
// writes it as a JSON object (io.debezium.data.Json).
type HStore []HStorePair

// HStorePair is one key of an hstore and its value; Null marks a NULL
// value (Value is then "").
type HStorePair struct {
	Key, Value string
	Null       bool
}

// Unavailable marks an unchanged TOAST value that Postgres did not send and no
// old tuple supplied.
type Unavailable struct{}

// Absent marks a column of an old tuple that is not part of the replica
// identity, so Postgres did not send it (it is not NULL).
type Absent struct{}
