package decoder

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/rs/zerolog"
)

// TestRelationLogVolume (audit auditscale finding 4): the first Relation
// message of each of 100 tables, which comes again after every restart and
// for tables the rules drop, logs nothing at info; a table's new version (a
// schema change) does, once.
func TestRelationLogVolume(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	d := New(Options{Log: zerolog.New(&buf).Level(zerolog.InfoLevel)})
	var msgs [][]byte
	for i := range 100 {
		msgs = append(msgs, relMsg(uint32(5000+i), "s", fmt.Sprintf("t%03d", i), 'd',
			wcol{1, "id", pgtype.Int8OID, -1}, wcol{0, "v", pgtype.TextOID, -1}))
	}
	feed(t, d, msgs...)
	if buf.Len() != 0 {
		t.Errorf("%d info lines for 100 tables registered, want none:\n%s", strings.Count(buf.String(), "\n"), buf.String())
	}
	feed(t, d, relMsg(5000, "s", "t000", 'd', wcol{1, "id", pgtype.Int8OID, -1}, wcol{0, "v", pgtype.TextOID, -1},
		wcol{0, "w", pgtype.Int4OID, -1}))
	if lines := strings.Count(buf.String(), "\n"); lines != 1 || !strings.Contains(buf.String(), `"relation changed"`) {
		t.Errorf("a schema change logged %d info lines, want one \"relation changed\":\n%s", lines, buf.String())
	}
}
