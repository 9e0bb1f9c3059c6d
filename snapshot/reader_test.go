package snapshot

import (
	"context"
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixtureDDL creates tables of every shape the reader distinguishes.
const fixtureDDL = `
CREATE TABLE single (id bigint PRIMARY KEY, v text, n numeric(10,2), ts timestamptz);
INSERT INTO single SELECT g, 'v' || g, g / 100.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
  FROM generate_series(1, 3000) g;
CREATE TABLE composite (tenant text, id int, payload int[], PRIMARY KEY (tenant, id));
INSERT INTO composite SELECT 't' || (g % 7), g, ARRAY[g, g + 1] FROM generate_series(1, 1037) g;
CREATE TABLE keyless (a int, b text);
INSERT INTO keyless SELECT g, 'b' || g FROM generate_series(1, 450) g;
CREATE TABLE empty (id int PRIMARY KEY);
CREATE TABLE shaped (id int PRIMARY KEY, dropme int, keep text, gen int GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE shaped DROP COLUMN dropme;
INSERT INTO shaped (id, keep) SELECT g, 'k' || g FROM generate_series(1, 250) g;
CREATE TABLE full_ident (id int PRIMARY KEY, v text);
ALTER TABLE full_ident REPLICA IDENTITY FULL;
INSERT INTO full_ident SELECT g, 'f' || g FROM generate_series(1, 120) g;
`

var fixtureTables = []Table{
	{"public", "single"}, {"public", "composite"}, {"public", "keyless"},
	{"public", "empty"}, {"public", "shaped"}, {"public", "full_ident"},
}

// fixture returns the DSN of a fresh database holding fixtureDDL.
func fixture(t *testing.T) string {
	t.Helper()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, fixtureDDL)
	return dsn
}

// export exports a snapshot of dsn; t's cleanup releases it.
func export(t *testing.T, dsn string) *Exported {
	t.Helper()
	ctx := context.Background()
	conn, err := replication.ConnectSQL(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	e, err := Export(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func options(dsn, snap string, par, chunk int) Options {
	return Options{
		Connect:     func(ctx context.Context) (*pgx.Conn, error) { return replication.ConnectSQL(ctx, dsn) },
		Snapshot:    snap,
		Tables:      append([]Table(nil), fixtureTables...),
		Parallelism: par, ChunkSize: chunk, BatchRows: 64,
		Log: zerolog.Nop(),
	}
}

// readAll opens and reads a snapshot; it returns the rows by ordinal.
func readAll(t *testing.T, o Options) (*Reader, map[uint64]row) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(r.Close)
	out := make(chan *Batch, 4)
	errc := make(chan error, 1)
	go func() { errc <- r.Read(ctx, out) }()
	rows := map[uint64]row{}
	for b := range out {
		if len(b.Rows) > o.BatchRows {
			t.Errorf("batch of %d rows, BatchRows %d", len(b.Rows), o.BatchRows)
		}
		for i, vals := range b.Rows {
			n := b.Table.Base + b.Row + uint64(i)
			if prev, dup := rows[n]; dup {
				t.Fatalf("ordinal %d twice: %v and %s %v", n, prev, b.Table.Table, vals)
			}
			rows[n] = row{b.Table.Table.Name, vals}
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("Read: %v", err)
	}
	return r, rows
}

type row struct {
	table string
	vals  []any
}

func TestReadPlansEveryShape(t *testing.T) {
	dsn := fixture(t)
	e := export(t, dsn)
	r, rows := readAll(t, options(dsn, e.Name, 3, 100))

	want := map[string]struct {
		rows   uint64
		chunks int
		key    []string
		cols   []string
		keys   []string // Relation key flags
	}{
		"composite":  {1037, 11, []string{"tenant", "id"}, []string{"tenant", "id", "payload"}, []string{"tenant", "id"}},
		"empty":      {0, 0, []string{"id"}, []string{"id"}, []string{"id"}},
		"full_ident": {120, 2, []string{"id"}, []string{"id", "v"}, []string{"id"}},
		"keyless":    {450, 1, nil, []string{"a", "b"}, nil},
		"shaped":     {250, 3, []string{"id"}, []string{"id", "keep"}, []string{"id"}},
		"single":     {3000, 30, []string{"id"}, []string{"id", "v", "n", "ts"}, []string{"id"}},
	}
	var base uint64
	for _, p := range r.Plans() {
		w := want[p.Table.Name]
		var cols, keys []string
		for _, c := range p.Relation.Columns {
			cols = append(cols, c.Name)
			if c.Key {
				keys = append(keys, c.Name)
			}
		}
		if p.Rows != w.rows || p.Chunks != w.chunks || !reflect.DeepEqual(p.ChunkKey, w.key) ||
			!reflect.DeepEqual(cols, w.cols) || !reflect.DeepEqual(keys, w.keys) || p.Base != base {
			t.Errorf("%s: rows %d chunks %d key %v cols %v keys %v base %d; want %+v base %d",
				p.Table, p.Rows, p.Chunks, p.ChunkKey, cols, keys, p.Base, w, base)
		}
		base += p.Rows
	}
	if r.Total() != base || uint64(len(rows)) != base {
		t.Fatalf("total %d, %d rows read, plans sum to %d", r.Total(), len(rows), base)
	}
	// Ordinals follow key order within each keyed table.
	single, composite := r.Plans()[5], r.Plans()[0]
	for i := range single.Rows {
		if got := rows[single.Base+i].vals[0]; got != int64(i+1) {
			t.Fatalf("single ordinal %d holds id %v, want %d", single.Base+i, got, i+1)
		}
	}
	for i := uint64(1); i < composite.Rows; i++ {
		a, b := rows[composite.Base+i-1].vals, rows[composite.Base+i].vals
		if a[0].(string) > b[0].(string) || a[0] == b[0] && a[1].(int32) >= b[1].(int32) {
			t.Fatalf("composite ordinals %d, %d out of key order: %v, %v", i-1, i, a[:2], b[:2])
		}
	}
	first := rows[single.Base]
	if fmt.Sprint(first.vals) != fmt.Sprint([]any{int64(1), "v1", dec(1, 2), "2024-01-01T00:00:01.000000Z"}) {
		t.Errorf("first row of single: %#v", first)
	}
}

func dec(unscaled int64, scale int32) event.Decimal {
	return event.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

func TestReadSeesTheSnapshotNotLaterWrites(t *testing.T) {
	dsn := fixture(t)
	e := export(t, dsn)
	testenv.ExecDSN(t, dsn, `DELETE FROM single WHERE id <= 1000; UPDATE composite SET payload = '{0}';
		INSERT INTO keyless SELECT g, 'late' FROM generate_series(1, 100) g; INSERT INTO empty VALUES (1)`)
	r, rows := readAll(t, options(dsn, e.Name, 2, 500))
	if r.Total() != 3000+1037+450+250+120 {
		t.Fatalf("total %d rows: later writes leaked into the snapshot", r.Total())
	}
	for _, rw := range rows {
		if rw.table == "composite" && reflect.DeepEqual(rw.vals[2], []any{int32(0)}) {
			t.Fatalf("composite row %v has the later update", rw.vals)
		}
		if rw.table == "keyless" && rw.vals[1] == "late" {
			t.Fatalf("keyless row %v inserted after the snapshot", rw.vals)
		}
	}
}

func TestOrdinalsDoNotDependOnParallelism(t *testing.T) {
	dsn := fixture(t)
	e := export(t, dsn)
	_, one := readAll(t, options(dsn, e.Name, 1, 100))
	_, four := readAll(t, options(dsn, e.Name, 4, 100))
	if len(one) != len(four) {
		t.Fatalf("%d rows with 1 reader, %d with 4", len(one), len(four))
	}
	for n, a := range one {
		if b := four[n]; a.table != b.table || !equalRows(a.vals, b.vals) {
			t.Fatalf("ordinal %d: %s %v with 1 reader, %s %v with 4", n, a.table, a.vals, b.table, b.vals)
		}
	}
}

func equalRows(a, b []any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestPublicationColumnListAndRowFilter(t *testing.T) {
	dsn := fixture(t)
	testenv.ExecDSN(t, dsn, `CREATE PUBLICATION snap_pub FOR TABLE single (id, v) WHERE (id > 2900)`)
	e := export(t, dsn)
	o := options(dsn, e.Name, 2, 30)
	o.Tables, o.Publication = []Table{{"public", "single"}}, "snap_pub"
	r, rows := readAll(t, o)
	p := r.Plans()[0]
	if len(p.Relation.Columns) != 2 || p.Rows != 100 || len(rows) != 100 || p.Chunks != 4 {
		t.Fatalf("columns %d, rows %d (read %d), chunks %d; want 2 columns, 100 rows in 4 chunks",
			len(p.Relation.Columns), p.Rows, len(rows), p.Chunks)
	}
	if rows[0].vals[0] != int64(2901) {
		t.Errorf("first row %v, want id 2901", rows[0].vals)
	}
}

func TestOpenErrors(t *testing.T) {
	dsn := fixture(t)
	e := export(t, dsn)
	ctx := context.Background()
	o := options(dsn, e.Name, 1, 100)
	o.Tables = []Table{{"public", "missing"}}
	if _, err := Open(ctx, o); err == nil {
		t.Error("Open of a missing table succeeded")
	}
	o = options(dsn, "'; DROP TABLE single; --", 1, 100)
	if _, err := Open(ctx, o); err == nil {
		t.Error("Open with a malformed snapshot name succeeded")
	}
	o = options(dsn, "00000003-00000002-1", 1, 100)
	if _, err := Open(ctx, o); err == nil {
		t.Error("Open of a snapshot nobody exported succeeded")
	}
}
