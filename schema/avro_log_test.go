package schema

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// TestAvroLogVolume (audit auditscale finding 4): the schemas of each of
// 50 tables, made ready again after every restart, log nothing at info
// (the registry logs what it registers; a new relation version is the
// decoder's "relation changed").
func TestAvroLogVolume(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	var buf bytes.Buffer
	ta.enc.ao.Log = zerolog.New(&buf).Level(zerolog.InfoLevel)
	for i := range 50 {
		rel := ordersRel()
		rel.OID, rel.Table = uint32(20000+i), fmt.Sprintf("t%02d", i)
		mustEncode(t, ta.enc, change(event.OpCreate, rel, nil, ordersRow(1, "x")))
	}
	if buf.Len() != 0 {
		t.Errorf("%d info lines for the schemas of 50 tables, want none:\n%s", strings.Count(buf.String(), "\n"), buf.String())
	}
}
