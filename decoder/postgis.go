package decoder

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/walrelay/walrelay/event"
)

// The PostGIS extension's type names; their OIDs differ per database.
const (
	geometryTypeName  = "geometry"
	geographyTypeName = "geography"
)

// ewkbSRIDFlag marks an EWKB type word followed by a 4-byte SRID.
const ewkbSRIDFlag = 0x20000000

// convGeometry and convGeography parse PostGIS's text output, hex EWKB,
// into an event.Geometry.
func convGeometry(src []byte) (any, error)  { return parseEWKB(src, false) }
func convGeography(src []byte) (any, error) { return parseEWKB(src, true) }

// parseEWKB decodes hex EWKB and reads its SRID as Debezium's
// PostgisGeometry.parseSrid does: byte-order mark, type word, and the SRID
// right after it when the type has the SRID flag; none otherwise (Debezium
// Server 3.6.1 then writes srid null). Fewer than 9 bytes is an error, as
// there.
func parseEWKB(src []byte, geography bool) (any, error) {
	what := geometryTypeName
	if geography {
		what = geographyTypeName
	}
	wkb := make([]byte, hex.DecodedLen(len(src)))
	if _, err := hex.Decode(wkb, src); err != nil {
		return nil, fmt.Errorf("invalid %s %.40q: not hex EWKB: %v", what, src, err)
	}
	if len(wkb) < 9 {
		return nil, fmt.Errorf("invalid %s %q: EWKB shorter than 9 bytes", what, src)
	}
	var order binary.ByteOrder = binary.BigEndian
	if wkb[0] != 0 {
		order = binary.LittleEndian
	}
	g := event.Geometry{WKB: wkb, Geography: geography}
	if order.Uint32(wkb[1:5])&ewkbSRIDFlag != 0 {
		g.SRID, g.HasSRID = int32(order.Uint32(wkb[5:9])), true
	}
	return g, nil
}
