package schema

// Avro format (NewAvro)
//
// Schemas follow what Debezium's PostgreSQL connector produces through
// Confluent's AvroConverter (AvroData with connect.meta.data on) with its
// defaults (decimal.handling.mode=precise, time.precision.mode=adaptive,
// binary.handling.mode=bytes, interval.handling.mode=numeric,
// schema.name.adjustment.mode=avro):
//
//	topic <prefix>.<schema>.<table>, subjects <topic>-key and <topic>-value
//	Key       record <prefix>.<schema>.<table>.Key: the key columns, required
//	Envelope  record <prefix>.<schema>.<table>.Envelope, connect.version 2:
//	            before, after  ["null", Value] default null
//	            source         io.debezium.connector.postgresql.Source
//	            op             string
//	            ts_ms, ts_us, ts_ns  ["null","long"] default null
//	            transaction    ["null", event.block{id, total_order, data_collection_order}]
//	Value     record <prefix>.<schema>.<table>.Value: every column in order;
//	          key columns required, the others ["null", T] default null, so
//	          adding or dropping a column stays compatible
//
// Names are sanitised to Avro names (each character outside [A-Za-z0-9_] of
// a dot-separated segment becomes '_', a leading digit too). A column keeps
// its field name for good: the names of a table's new version come from its
// previous version's schema (in memory, or after a restart the latest one
// registered under the value subject), where a column found (by pg.column,
// or by name) keeps its field. A new column takes its own name when that is
// a valid Avro name and no field of the kept columns or of the previous
// schema has it, else its sanitised name suffixed "_2", "_3"... until it is
// free: "x-y" is x_y, and a column "x_y" added later is x_y_2 (with a new
// table the exact name wins: "x_y" is x_y, "x-y" x_y_2). A Value field
// whose name is not its column's records the column as a field property,
// {"name": "x_y", ..., "pg.column": "x-y"}; fields named as their column
// have none, as in Debezium, and Key fields (same names) never have it.
// Once a version no longer has a column, its field name is free for a
// later version's new column. A schema registered before pg.column existed
// is read as that walrelay named it (a column without a field of its name
// keeps the field of its sanitised, possibly suffixed, name).
//
// Column types (T above), with the Go value each encodes:
//
//	bool, bit(1)              boolean
//	int2                      int, connect.type int16
//	int4                      int
//	int8, oid                 long
//	float4 / float8           float / double (NaN and infinities as such)
//	numeric(p,s)              bytes, logicalType decimal, precision p, scale s
//	                          (numeric(p,-n): precision p+n, scale 0; s > p:
//	                          precision s),
//	                          connect.name org.apache.kafka.connect.data.Decimal,
//	                          connect.parameters {scale, connect.decimal.precision}
//	money                     the same at scale 2, precision 64 (AvroData's default)
//	numeric                   io.debezium.data.VariableScaleDecimal {scale int, value bytes}
//	numeric NaN / ±Infinity   null (precise mode cannot carry them)
//	bytea                     bytes
//	point                     io.debezium.data.geometry.Point {x double, y double,
//	                          wkb ["null","bytes"] (little-endian OGC WKB), srid
//	                          ["null","int"] (null)}
//	hstore                    string, io.debezium.data.Json (the pairs as a JSON object)
//	PostGIS geometry          io.debezium.data.geometry.Geometry {wkb bytes (the EWKB),
//	                          srid ["null","int"]}; geography: ...Geography {wkb, srid
//	                          int}; arrays of either: strings of hex EWKB
//	numeric, money (arrays    with decimal_handling_mode double: double; string:
//	  too) in other modes     string (see doc.go); no connect.name or parameters
//	bytea in other modes      string (base64, URL-safe base64 or hex), as
//	                          Debezium's binary.handling.mode
//	bit(n), varbit            bytes, io.debezium.data.Bits (connect.parameters length;
//	                          2147483647 for an unlimited varbit, as Debezium)
//	tsvector                  string, io.debezium.data.Tsvector
//	ltree (extension)         string, io.debezium.data.Ltree
//	date                      int, io.debezium.time.Date; ±infinity as Debezium's
//	                          -2147472692 / -2147472691 (DatePositiveInfinity)
//	time                      long, io.debezium.time.MicroTime; time(0..3): int,
//	                          io.debezium.time.Time (ms of day)
//	timetz                    string, io.debezium.time.ZonedTime
//	timestamp                 long, io.debezium.time.MicroTimestamp; ±infinity as
//	                          9223372036825200000 / -9223372036832400000 (as Debezium);
//	                          timestamp(0..3): long, io.debezium.time.Timestamp (ms,
//	                          ±infinity those constants / 1000)
//	time, timestamp, date     time_precision_mode adaptive_time_microseconds: time is
//	  in other modes          always MicroTime; connect: Kafka Connect's Time (int,
//	                          time-millis), Timestamp (long, timestamp-millis) and
//	                          Date (int, date), with connect.name, connect.version 1
//	                          and logicalType, values truncated to ms
//	timestamptz               string, io.debezium.time.ZonedTimestamp
//	interval                  long, io.debezium.time.MicroDuration; with
//	                          interval_handling_mode string: string,
//	                          io.debezium.time.Interval (see doc.go), connect.version 1
//	json, jsonb               string, io.debezium.data.Json
//	uuid                      string, io.debezium.data.Uuid
//	xml                       string, io.debezium.data.Xml
//	enums                     string, io.debezium.data.Enum, connect.parameters
//	                          {allowed: the labels in sort order, comma-separated}
//	                          as the decoder read them from pg_enum (none when
//	                          it could not); a label added while walrelay runs
//	                          yields the relation's next version, so a new schema
//	arrays                    array of ["null", element type]; a multi-dimensional
//	                          array is flattened in row-major order
//	anything else             string, PostgreSQL's text form
//
// Unchanged TOAST values take the placeholder where the type can hold it,
// the same value as in the JSON format (placeholderFor): strings the
// placeholder, bytes its bytes, arrays of strings [placeholder] (uuid[] its
// name-based UUID), bytea[] [its bytes], int4[]/date[]/int8[] its bytes as
// numbers, as Debezium does; other types (numeric, bool, int2, oid, floats,
// temporal, Point, PostGIS, and arrays of those) are null, in JSON too, as
// Debezium leaves them. Columns absent from an old tuple are null. A numeric
// NaN or ±Infinity in a key column fails the record with
// ErrUnrepresentableKey in precise mode (a decimal cannot carry it).
//
// Logical decoding messages go to <prefix>.message (heartbeats to
// heartbeat.topic) with Debezium's io.debezium.connector.postgresql.MessageKey
// {prefix} and MessageValue {op, ts_ms, source, message {prefix, content
// bytes}}, registered under the subjects of the topic they go to.
//
// Known differences from Debezium: box, circle, line, lseg, path and polygon
// are their text form (Debezium leaves such columns out); enum arrays' items
// are plain nullable strings; the envelope lists transaction last (field
// order changes nothing for a reader).
