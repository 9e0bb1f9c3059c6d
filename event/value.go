package event

import "math/big"

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
//	timestamp                              MicroTimestamp (µs since epoch, wall clock)
//	timestamptz                            string, ISO-8601 in UTC: "2006-01-02T15:04:05.999999Z"
//	interval                               MicroDuration (µs; a month counts 30.4375 days)
//	uuid                                   string (lower-case, hyphenated)
//	json, jsonb                            JSON (the document's text)
//	enum types                             Enum (the label)
//	hstore (extension, by type name)       HStore (its pairs in stored order)
//	bit(1)                                 bool
//	bit(n), varbit                         Bits
//	inet, cidr, macaddr, macaddr8          string (Postgres' text form)
//	ranges, geometric, xml, others         string (Postgres' text form)
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

// Date is a date as days since 1970-01-01 (io.debezium.time.Date).
type Date int32

// MicroTime is a time of day in microseconds (io.debezium.time.MicroTime).
type MicroTime int64

// MicroTimestamp is a timestamp without time zone as microseconds since the
// epoch of its wall-clock reading (io.debezium.time.MicroTimestamp).
type MicroTimestamp int64

// MicroDuration is an interval in microseconds (io.debezium.time.MicroDuration).
type MicroDuration int64

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
