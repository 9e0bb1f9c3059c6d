package schema

import (
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// avroKind is how a value is written in Avro binary.
type avroKind uint8

const (
	kindBoolean    avroKind = iota + 1
	kindInt                 // int: int2, int4, date
	kindLong                // long: int8, oid, time, timestamp, interval (numeric mode)
	kindFloat               // float4
	kindDouble              // float8
	kindString              // text types, uuid, json, temporal with zone, enums, anything unknown
	kindBytes               // bytea, bit(n), varbit
	kindDecimal             // bytes with the decimal logical type at a fixed scale
	kindVarDecimal          // io.debezium.data.VariableScaleDecimal {scale, value}
	kindPoint               // io.debezium.data.geometry.Point {x, y, wkb, srid}
	kindGeometry            // io.debezium.data.geometry.Geometry / Geography {wkb, srid}
	kindArray               // array of optional elements
)

// infinity says what a "infinity"/"-infinity" string becomes in an int or
// long column (see avroInfinity).
type infinity uint8

const (
	infNone infinity = iota
	infDate
	infTimestamp
)

// Debezium's values for ±infinity timestamps (PostgreSQL JDBC's
// PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY, passed
// through unconverted) and dates: PostgreSQL's internal day numbers of
// ±infinity (INT_MAX / INT_MIN days from 2000-01-01) moved to the 1970
// epoch in int arithmetic, which wraps (what Debezium Server 3.6.1 printed
// in the e2e/parity run).
const (
	TimestampPositiveInfinity int64 = 9223372036825200000
	TimestampNegativeInfinity int64 = -9223372036832400000
	DatePositiveInfinity      int32 = -1<<31 + 10956 // INT_MAX + 10957, wrapped
	DateNegativeInfinity      int32 = -1<<31 + 10957 // INT_MIN + 10957
)

// infinityNumber returns what a ±infinity date or timestamp (s) of col is
// in Debezium's output, a number in every format; ok is false for other
// columns and values. millis says whether col's timestamps are in ms.
func infinityNumber(col *event.Column, s string, millis bool) (int64, bool) {
	if col == nil || s != "infinity" && s != "-infinity" {
		return 0, false
	}
	oid := col.TypeOID
	if col.Kind == event.KindArray {
		oid = col.ElemOID
	}
	switch oid {
	case pgtype.DateOID:
		if s == "infinity" {
			return int64(DatePositiveInfinity), true
		}
		return int64(DateNegativeInfinity), true
	case pgtype.TimestampOID:
		return timestampInfinity(s, millis)
	}
	return 0, false
}

// avroType is the Avro type of a column or array element: how values are
// written (kind, scale, infinity, elem) and the Kafka Connect properties
// that AvroData would attach (connect.name, connect.version,
// connect.parameters, connect.type).
type avroType struct {
	kind      avroKind
	name      string // connect.name; "" for plain types
	connType  string // connect.type (int16)
	params    jobj   // connect.parameters
	precision int    // kindDecimal
	scale     int32  // kindDecimal
	inf       infinity
	bin       BinaryMode // kindString holding bytea: its text form
	milli     bool       // a time or timestamp in ms (values are µs)
	logical   string     // Avro logicalType, besides kindDecimal's
	elem      *avroType  // kindArray
}

// PostgreSQL type OIDs the mapping needs beyond pgtype's constants.
const (
	moneyOID    = 790
	tsvectorOID = 3614
)

// Debezium semantic type names.
const (
	nameDate        = "io.debezium.time.Date"
	nameMicroTime   = "io.debezium.time.MicroTime"
	nameMicroTS     = "io.debezium.time.MicroTimestamp"
	nameZonedTS     = "io.debezium.time.ZonedTimestamp"
	nameZonedTime   = "io.debezium.time.ZonedTime"
	nameMicroDur    = "io.debezium.time.MicroDuration" // interval; nameInterval in string mode
	nameJSON        = "io.debezium.data.Json"
	nameUUID        = "io.debezium.data.Uuid"
	nameXML         = "io.debezium.data.Xml"
	nameTsvector    = "io.debezium.data.Tsvector"
	nameLtree       = "io.debezium.data.Ltree"
	nameEnum        = "io.debezium.data.Enum"
	nameBits        = "io.debezium.data.Bits"
	nameVarDecimal  = "io.debezium.data.VariableScaleDecimal"
	nameDecimal     = "org.apache.kafka.connect.data.Decimal"
	moneyPrecision  = 64 // AvroData's precision when Connect gives none
	connectVersion1 = 1
)

// columnType returns the Avro type of col, following the decoder's choice
// of Go value (decoder.scalarConverter) so that every value fits its type.
func columnType(col *event.Column) *avroType {
	switch col.Kind {
	case event.KindEnum:
		t := &avroType{kind: kindString, name: nameEnum}
		if col.EnumLabels != "" {
			t.params = jobj{{"allowed", col.EnumLabels}}
		}
		return t
	case event.KindOther:
		if col.TypeName == "hstore" {
			return &avroType{kind: kindString, name: nameJSON} // hstore.handling.mode=json
		}
		if t := postgisType(col.TypeName); t != nil {
			return t
		}
		if col.TypeName == "ltree" {
			return &avroType{kind: kindString, name: nameLtree}
		}
		return &avroType{kind: kindString}
	case event.KindArray:
		return &avroType{kind: kindArray, elem: baseType(col.ElemOID, col.TypeMod)}
	}
	return baseType(col.TypeOID, col.TypeMod)
}

// baseType maps a built-in type (or an array's element type, with the
// array column's typmod) to Avro; anything else is its text form.
func baseType(oid uint32, typmod int32) *avroType {
	switch oid {
	case pgtype.BoolOID:
		return &avroType{kind: kindBoolean}
	case pgtype.Int2OID:
		return &avroType{kind: kindInt, connType: "int16"}
	case pgtype.Int4OID:
		return &avroType{kind: kindInt}
	case pgtype.Int8OID, pgtype.OIDOID:
		return &avroType{kind: kindLong}
	case pgtype.Float4OID:
		return &avroType{kind: kindFloat}
	case pgtype.Float8OID:
		return &avroType{kind: kindDouble}
	case pgtype.NumericOID:
		return numericType(typmod)
	case moneyOID:
		return &avroType{kind: kindDecimal, name: nameDecimal, precision: moneyPrecision, scale: 2,
			params: jobj{{"scale", "2"}}}
	case pgtype.ByteaOID:
		return &avroType{kind: kindBytes}
	case pgtype.DateOID:
		return &avroType{kind: kindInt, name: nameDate, inf: infDate}
	case pgtype.TimeOID:
		return &avroType{kind: kindLong, name: nameMicroTime}
	case pgtype.TimetzOID:
		return &avroType{kind: kindString, name: nameZonedTime}
	case pgtype.TimestampOID:
		return &avroType{kind: kindLong, name: nameMicroTS, inf: infTimestamp}
	case pgtype.TimestamptzOID:
		return &avroType{kind: kindString, name: nameZonedTS}
	case pgtype.IntervalOID:
		return &avroType{kind: kindLong, name: nameMicroDur}
	case pgtype.JSONOID, pgtype.JSONBOID:
		return &avroType{kind: kindString, name: nameJSON}
	case pgtype.PointOID:
		return &avroType{kind: kindPoint, name: namePoint}
	case pgtype.UUIDOID:
		return &avroType{kind: kindString, name: nameUUID}
	case pgtype.XMLOID:
		return &avroType{kind: kindString, name: nameXML}
	case tsvectorOID:
		return &avroType{kind: kindString, name: nameTsvector}
	case pgtype.BitOID, pgtype.VarbitOID:
		if typmod == 1 {
			return &avroType{kind: kindBoolean}
		}
		t := &avroType{kind: kindBytes, name: nameBits}
		switch {
		case typmod > 0:
			t.params = jobj{{"length", strconv.Itoa(int(typmod))}}
		case oid == pgtype.VarbitOID: // unlimited: Debezium's column length
			t.params = jobj{{"length", "2147483647"}}
		}
		return t
	}
	return &avroType{kind: kindString}
}

// numericType is numeric(p,s) as a decimal of scale s and precision p, or
// VariableScaleDecimal when unconstrained. The precision holds every value of
// the column, as the Avro spec requires (scale <= precision, and a reader
// such as Spark's DecimalType(p,s) overflows on more digits): a negative
// PostgreSQL 15 scale counts as 0 and adds its digits, so numeric(3,-2),
// whose values run to 99900, is precision 5 scale 0; a scale above the
// precision raises the precision to it, so numeric(3,5) is precision 5
// scale 5. connect.parameters carry the same precision and scale.
func numericType(typmod int32) *avroType {
	p, s, ok := numericTypmod(typmod)
	if !ok {
		return &avroType{kind: kindVarDecimal, name: nameVarDecimal}
	}
	prec := max(p, s)
	if s < 0 {
		prec, s = p-s, 0
	}
	return &avroType{kind: kindDecimal, name: nameDecimal, precision: int(prec), scale: s,
		params: jobj{{"scale", strconv.Itoa(int(s))}, {"connect.decimal.precision", strconv.Itoa(int(prec))}}}
}

// kindName is the Avro type name of a kind, for schemas and messages.
func (k avroKind) String() string {
	switch k {
	case kindBoolean:
		return "boolean"
	case kindInt:
		return "int"
	case kindLong:
		return "long"
	case kindFloat:
		return "float"
	case kindDouble:
		return "double"
	case kindString:
		return "string"
	case kindBytes, kindDecimal:
		return "bytes"
	case kindVarDecimal, kindPoint, kindGeometry:
		return "record"
	case kindArray:
		return "array"
	}
	return "unknown"
}
