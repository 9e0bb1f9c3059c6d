// Package schema turns decoded changes (event.Change) into Kafka records
// (event.Record): topic, key, value and CloudEvents headers (and, on the
// halves of a key-changing update, Debezium's __debezium.newkey and
// __debezium.oldkey: see keyheader.go).
//
// The JSON encoder (NewJSON) prints exactly what Kafka Connect's JsonConverter
// with schemas.enable=false prints for the Debezium PostgreSQL connector with
// its defaults (decimal.handling.mode=precise, time.precision.mode=adaptive,
// binary.handling.mode=bytes, interval.handling.mode=numeric), so a consumer
// of Debezium JSON topics reads walrelay's topics unchanged. The parts that do not depend on the wire format
// (topic names, the source and transaction blocks, CloudEvents headers, decimal
// bytes, TOAST placeholders) live in their own files so the Avro encoder reuses
// them.
//
// Value mapping (Go type from event/value.go -> JSON):
//
//	nil, Absent                 null
//	bool                        true / false
//	int16/int32/int64           number
//	float32/float64             number as Java's Float/Double.toString writes it
//	                            (1.0, 1.6777216E7, 1.0E-5, -0.0); NaN, Infinity,
//	                            -Infinity as the strings
//	                            "NaN", "Infinity", "-Infinity" (Jackson's default,
//	                            JsonWriteFeature.WRITE_NAN_AS_STRINGS)
//	Decimal, numeric(p,s)/money base64 of the big-endian two's-complement unscaled
//	                            value at the column's scale (Java
//	                            BigInteger.toByteArray); money has scale 2
//	Decimal, unconstrained      {"scale":s,"value":base64} (VariableScaleDecimal);
//	                            also for a Decimal in a column that is neither
//	                            numeric nor money (e.g. a domain), since it
//	                            carries its own scale
//	Decimal with Special        null: precise mode cannot carry NaN/±Infinity
//	                            (Debezium fails the connector here; walrelay
//	                            emits null rather than halt the pipeline)
//	Date, MicroTime,            number; MicroTime and MicroTimestamp in ms
//	MicroTimestamp, MicroDuration for time(0..3)/timestamp(0..3), and per
//	                            Options.TimePrecision (see avro_doc.go)
//	FarTimestamp                number: its ms where MicroTimestamp is in ms,
//	                            else math.MaxInt64 (the µs clamp)
//	Interval                    number: io.debezium.time.MicroDuration µs, a
//	                            month counted as 30.4375 days, saturating at
//	                            the int64 range
//	"infinity", "-infinity"     in a date or timestamp column: Debezium's
//	                            numbers, as in Avro (see avro_doc.go)
//	string, JSON, Enum          string (json documents as a string, as
//	                            io.debezium.data.Json)
//	[]byte, Bits                base64 string
//	Point                       {"x":x,"y":y,"wkb":base64 WKB,"srid":null}
//	                            (io.debezium.data.geometry.Point)
//	Geometry                    {"wkb":base64 EWKB,"srid":n} (Debezium's Geometry
//	                            and Geography); in an array, the hex EWKB string
//	HStore                      string: the JSON text of an object, {"k":"v"}
//	                            (hstore.handling.mode=json)
//	[]any                       array, elements mapped with the column's rules
//
// Options.DecimalMode, Options.BinaryMode and Options.IntervalMode
// (Debezium's decimal.handling.mode, binary.handling.mode and
// interval.handling.mode) change four rows above:
//
//	Decimal, mode double        number, the nearest double; NaN/±Infinity as
//	                            the strings above
//	Decimal, mode string        string, plain notation at the column's scale
//	                            ("12.50", "0.0000000000"); NaN/±Infinity
//	                            as Debezium's "NAN", "POSITIVE_INFINITY",
//	                            "NEGATIVE_INFINITY"
//	bytea []byte, other modes   string: base64 (padded), URL-safe base64
//	                            (padded) or lower-case hex; bit strings stay
//	                            base64 bytes
//	Interval, mode string       string, io.debezium.time.Interval:
//	                            "P1Y2M3DT4H5M6.78S", all six components, each
//	                            with its own sign ("P-1Y-2M3DT-4H-5M-6.78S";
//	                            zero "P0Y0M0DT0H0M0S"), seconds exact to the µs
//
//	Unavailable                 the TOAST placeholder, shaped as Debezium does
//	                            (placeholderFor, the same value as in Avro):
//	                            bytea/bit(n)/varbit -> base64 of its bytes (bytea
//	                            in a text binary mode: the string itself);
//	                            arrays of strings -> ["placeholder"], uuid[] ->
//	                            [its name-based UUID]; bytea[] -> [its bytes];
//	                            int4[]/date[]/int8[] -> its bytes as numbers;
//	                            null where the type cannot hold it (numeric,
//	                            bool, int2, oid, floats, temporal types, Point,
//	                            PostGIS, and arrays of those), as Debezium leaves
//	                            the field; else the string
//
// Absent columns (not part of an old tuple's replica identity) are printed as
// null: Debezium's Struct carries every column and JsonConverter prints
// unset optional fields as null (for NOT NULL columns Debezium prints a type
// default such as 0; walrelay's schemas make every non-key column optional, so
// null is the faithful and unambiguous rendering).
//
// Known differences from Debezium, by design: source.sequence uses the
// change's own transaction commit LSN as its first element (Debezium uses the
// previous commit's); topic names are sanitised
// like Debezium's (characters outside [A-Za-z0-9._-] become '_').
package schema
