package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/snapshot"
)

// TestIncrementalFollowsRenamedTable: a table renamed while its incremental
// catch-up reads it is read on under its new name, from where the cursor
// stood (no row left unread), and its stream changes under the new name
// are matched to the catch-up's table by OID; a dropped table still ends
// its snapshot (ErrNoTable), and a new table under the old name is not
// mistaken for it.
func TestIncrementalFollowsRenamedTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE public.rn (id int PRIMARY KEY, v text); "+
		"INSERT INTO public.rn SELECT g, 'r' || g FROM generate_series(1, 5) g; "+
		"CREATE PUBLICATION pub FOR TABLE public.rn")
	conn := testenv.Connect(t, dsn)
	cfg := &config.Config{}
	cfg.Postgres.Publication = "pub"
	s := &session{cfg: cfg, log: zerolog.Nop()}
	inc := newIncremental(s, &checkpoint.Catchup{Tables: []string{"public.rn"}})

	c, err := inc.readChunk(ctx, conn, "public.rn", nil, 2)
	if err != nil || len(c.Rows) != 2 {
		t.Fatalf("first chunk: %v, %v", c, err)
	}
	testenv.ExecDSN(t, dsn, "ALTER TABLE public.rn RENAME TO rn2; CREATE TABLE public.rn (id int PRIMARY KEY)")
	var ids []any
	for after := c.Last; ; {
		c, err = inc.readChunk(ctx, conn, "public.rn", after, 2)
		if err != nil {
			t.Fatalf("chunk after %v, the table renamed: %v; want it read under its new name", after, err)
		}
		if got := c.Plan.Relation.QualifiedName(); got != "public.rn2" {
			t.Errorf("chunk read as %s, want public.rn2", got)
		}
		for _, r := range c.Rows {
			ids = append(ids, r[0])
		}
		if len(c.Rows) < 2 {
			break
		}
		after = c.Last
	}
	if len(ids) != 3 || ids[0] != int32(3) || ids[2] != int32(5) {
		t.Errorf("rows after the rename: %v, want ids 3, 4, 5", ids)
	}

	oid := c.Plan.Relation.OID
	inc.tables = map[string]bool{"public.rn": true}
	renamed := &event.Relation{OID: oid, Schema: "public", Table: "rn2"}
	other := &event.Relation{OID: oid + 1000, Schema: "public", Table: "rn"}
	if got, gotOther := inc.tableOfChange(renamed), inc.tableOfChange(other); got != "public.rn" || gotOther != "" {
		t.Errorf("stream changes: renamed table matched to %q, new public.rn to %q; want public.rn and none", got, gotOther)
	}

	testenv.ExecDSN(t, dsn, "DROP TABLE public.rn2")
	if _, err := inc.readChunk(ctx, conn, "public.rn", nil, 2); !errors.Is(err, snapshot.ErrNoTable) {
		t.Errorf("the followed table dropped: %v, want ErrNoTable (not the new public.rn)", err)
	}
}
