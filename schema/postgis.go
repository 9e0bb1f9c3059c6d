package schema

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/walrelay/walrelay/event"
)

// Debezium's semantic types of PostGIS values.
const (
	nameGeometry  = "io.debezium.data.geometry.Geometry"
	nameGeography = "io.debezium.data.geometry.Geography"
)

// postgisType returns the Avro type of a PostGIS column (by type name), or
// nil for any other column.
func postgisType(typeName string) *avroType {
	switch typeName {
	case "geometry":
		return &avroType{kind: kindGeometry, name: nameGeometry}
	case "geography":
		return &avroType{kind: kindGeometry, name: nameGeography}
	}
	return nil
}

// appendJSONGeometry appends g as Debezium's struct, {"wkb":base64 EWKB,
// "srid":n} (null without an SRID). Elements of an array column have no struct type in Debezium;
// they are PostgreSQL's text form (hex EWKB), as in Avro.
func appendJSONGeometry(dst []byte, col *event.Column, g event.Geometry) []byte {
	if col != nil && col.Kind == event.KindArray {
		return appendJSONString(dst, geometryText(g))
	}
	dst = append(dst, `{"wkb":`...)
	dst = appendJSONBase64(dst, g.WKB)
	dst = append(dst, `,"srid":`...)
	if !g.HasSRID {
		return append(dst, "null}"...)
	}
	dst = strconv.AppendInt(dst, int64(g.SRID), 10)
	return append(dst, '}')
}

// geometryText is g in PostgreSQL's text form: upper-case hex EWKB.
func geometryText(g event.Geometry) string { return strings.ToUpper(hex.EncodeToString(g.WKB)) }

// geometryRecord and geographyRecord are Debezium 3.6's Geometry.builder()
// and Geography.builder() as AvroData renders them: wkb bytes and an
// optional srid.
func geometryRecord() jobj  { return geoRecord(nameGeometry, "Geometry") }
func geographyRecord() jobj { return geoRecord(nameGeography, "Geography") }

func geoRecord(name, doc string) jobj {
	return structRecord(name, doc, jarr{jobj{{"name", "wkb"}, {"type", "bytes"}}, optionalField("srid", "int")})
}
