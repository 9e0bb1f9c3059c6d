package schema

import (
	"encoding/binary"
	"math"

	"github.com/walrelay/walrelay/event"
)

// namePoint is Debezium's semantic type of a PostgreSQL point.
const namePoint = "io.debezium.data.geometry.Point"

// pointWKB returns the OGC well-known binary of a 2D point as Debezium's
// Point.buildWKBPoint writes it: byte-order mark 1 (little-endian), type 1,
// x, y.
func pointWKB(p event.Point) []byte {
	b := make([]byte, 21)
	b[0] = 1
	binary.LittleEndian.PutUint32(b[1:], 1)
	binary.LittleEndian.PutUint64(b[5:], math.Float64bits(p.X))
	binary.LittleEndian.PutUint64(b[13:], math.Float64bits(p.Y))
	return b
}

// appendJSONPoint appends p as Debezium's Point struct in JSON:
// {"x":..,"y":..,"wkb":base64,"srid":null}.
func appendJSONPoint(dst []byte, p event.Point) []byte {
	dst = append(dst, `{"x":`...)
	dst = appendJSONFloat(dst, p.X, 64)
	dst = append(dst, `,"y":`...)
	dst = appendJSONFloat(dst, p.Y, 64)
	dst = append(dst, `,"wkb":`...)
	dst = appendJSONBase64(dst, pointWKB(p))
	return append(dst, `,"srid":null}`...)
}

// pointRecord is io.debezium.data.geometry.Point as AvroData renders
// Point.builder(): x, y, optional wkb and srid.
func pointRecord() jobj {
	return structRecord(namePoint, "Geometry (POINT)", jarr{
		jobj{{"name", "x"}, {"type", "double"}},
		jobj{{"name", "y"}, {"type", "double"}},
		optionalField("wkb", "bytes"),
		optionalField("srid", "int"),
	})
}
