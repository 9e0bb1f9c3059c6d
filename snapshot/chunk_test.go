package snapshot

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// chunkConn returns a fresh database holding ddl and a ConnectSQL
// connection to it, closed at t's cleanup.
func chunkConn(t *testing.T, ddl string) (string, *pgx.Conn) {
	t.Helper()
	dsn := testenv.PG(t).NewDatabase(t)
	if ddl != "" {
		testenv.ExecDSN(t, dsn, ddl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := replication.ConnectSQL(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return dsn, conn
}

// readChunk calls ReadChunk and checks that conn is left idle, outside a
// transaction, whatever the outcome.
func readChunk(t *testing.T, conn *pgx.Conn, o ChunkOptions) (*Chunk, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o.Log = zerolog.Nop()
	c, err := ReadChunk(ctx, conn, o)
	if st := conn.PgConn().TxStatus(); st != 'I' || conn.IsClosed() {
		t.Fatalf("after ReadChunk (err %v) conn is closed=%v, tx status %q; want idle", err, conn.IsClosed(), st)
	}
	var one int
	if qerr := conn.QueryRow(ctx, "SELECT 1").Scan(&one); qerr != nil {
		t.Fatalf("conn unusable after ReadChunk (err %v): %v", err, qerr)
	}
	return c, err
}

// mustChunk is readChunk that fails t on error.
func mustChunk(t *testing.T, conn *pgx.Conn, o ChunkOptions) *Chunk {
	t.Helper()
	c, err := readChunk(t, conn, o)
	if err != nil {
		t.Fatalf("ReadChunk %s after %q: %v", o.Table, o.After, err)
	}
	return c
}

// readChunks reads tbl to its end in chunks of limit rows and returns every
// row and each chunk's size.
func readChunks(t *testing.T, conn *pgx.Conn, o ChunkOptions) (rows [][]any, sizes []int) {
	t.Helper()
	for range 100 {
		c := mustChunk(t, conn, o)
		sizes = append(sizes, len(c.Rows))
		if len(c.Rows) == 0 {
			if c.Last != nil {
				t.Fatalf("empty chunk after %q has Last %q", o.After, c.Last)
			}
			return rows, sizes
		}
		rows = append(rows, c.Rows...)
		o.After = c.Last
	}
	t.Fatalf("%s not read to its end in 100 chunks", o.Table)
	return nil, nil
}

func TestReadChunkPagesThroughTable(t *testing.T) {
	_, conn := chunkConn(t, `CREATE TABLE chunk_ten (id int PRIMARY KEY, v text);
		INSERT INTO chunk_ten SELECT g, 'v' || g FROM generate_series(10, 1, -1) g`)
	o := ChunkOptions{Table: Table{"public", "chunk_ten"}, Limit: 4}
	wantLast := [][]string{{"4"}, {"8"}, {"10"}}
	var ids []any
	for i, n := range []int{4, 4, 2} {
		c := mustChunk(t, conn, o)
		if len(c.Rows) != n || !reflect.DeepEqual(c.Last, wantLast[i]) {
			t.Fatalf("chunk %d after %q: %d rows, Last %q; want %d rows, Last %q", i, o.After, len(c.Rows), c.Last, n, wantLast[i])
		}
		if !reflect.DeepEqual(c.Plan.ChunkKey, []string{"id"}) || !reflect.DeepEqual(c.KeyColumns, []int{0}) {
			t.Fatalf("chunk key %v, key columns %v; want [id], [0]", c.Plan.ChunkKey, c.KeyColumns)
		}
		if !regexp.MustCompile(`^[0-9]+:[0-9]+:([0-9]+(,[0-9]+)*)?$`).MatchString(c.Snapshot) {
			t.Fatalf("chunk %d: Snapshot %q is not pg_current_snapshot's xmin:xmax:xip", i, c.Snapshot)
		}
		for _, r := range c.Rows {
			ids = append(ids, r[0])
			if r[1] != fmt.Sprintf("v%d", r[0]) {
				t.Errorf("row %v: v does not match id", r)
			}
		}
		o.After = c.Last
	}
	want := []any{int32(1), int32(2), int32(3), int32(4), int32(5), int32(6), int32(7), int32(8), int32(9), int32(10)}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	c := mustChunk(t, conn, o)
	if len(c.Rows) != 0 || c.Last != nil {
		t.Fatalf("chunk after the last row: %d rows, Last %q; want none, nil", len(c.Rows), c.Last)
	}
}

func TestReadChunkCompositeKey(t *testing.T) {
	_, conn := chunkConn(t, `CREATE TABLE chunk_comp (n int, s text, payload int, PRIMARY KEY (n, s));
		INSERT INTO chunk_comp VALUES
		  (1, 'b', 1), (1, 'a"b', 2), (1, 'a,b', 3), (1, '(x)', 4), (1, ' lead', 5), (1, 'it''s', 6),
		  (1, 'back\slash', 7), (1, 'NULL', 8), (1, '', 9), (1, 'é', 10), (2, 'a', 11), (-3, 'z', 12),
		  (2, 'A', 13), (1, '{1,2}', 14), (1, 'a b', 15), (10, 'a', 16)`)
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT n, s FROM chunk_comp ORDER BY n, s`)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var n int32
		var s string
		err := r.Scan(&n, &s)
		return fmt.Sprintf("%d/%s", n, s), err
	})
	if err != nil {
		t.Fatal(err)
	}
	o := ChunkOptions{Table: Table{"public", "chunk_comp"}, Limit: 3}
	var got []string
	for {
		c := mustChunk(t, conn, o)
		if !reflect.DeepEqual(c.KeyColumns, []int{0, 1}) {
			t.Fatalf("key columns %v, want [0 1]", c.KeyColumns)
		}
		if len(c.Rows) == 0 {
			break
		}
		for _, r := range c.Rows {
			got = append(got, fmt.Sprintf("%d/%s", r[0], r[1]))
		}
		lastRow := c.Rows[len(c.Rows)-1]
		if wl := []string{fmt.Sprint(lastRow[0]), lastRow[1].(string)}; !reflect.DeepEqual(c.Last, wl) {
			t.Fatalf("Last %q, want the last row's key %q", c.Last, wl)
		}
		o.After = c.Last
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows in order\n%q\nwant (ORDER BY n, s)\n%q", got, want)
	}
}

func TestReadChunkPublication(t *testing.T) {
	_, conn := chunkConn(t, `CREATE TABLE chunk_pub (id int PRIMARY KEY, v text, secret text);
		INSERT INTO chunk_pub SELECT g, 'v' || g, 's' || g FROM generate_series(1, 20) g;
		CREATE TABLE chunk_pub_nokey (id int PRIMARY KEY, v text);
		INSERT INTO chunk_pub_nokey VALUES (1, 'a')`)
	ctx := context.Background()
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 150000 {
		t.Skipf("publication column lists and row filters need PostgreSQL 15+, server is %d", version)
	}
	if _, err := conn.Exec(ctx, `CREATE PUBLICATION chunk_pub_p FOR TABLE chunk_pub (id, v) WHERE (id % 3 = 0),
		chunk_pub_nokey (v)`); err != nil {
		t.Fatal(err)
	}
	o := ChunkOptions{Table: Table{"public", "chunk_pub"}, Publication: "chunk_pub_p", Limit: 4}
	rows, sizes := readChunks(t, conn, o)
	var ids []any
	for _, r := range rows {
		if len(r) != 2 {
			t.Fatalf("row %v has %d columns, the column list has 2", r, len(r))
		}
		ids = append(ids, r[0])
	}
	want := []any{int32(3), int32(6), int32(9), int32(12), int32(15), int32(18)}
	if !reflect.DeepEqual(ids, want) || !reflect.DeepEqual(sizes, []int{4, 2, 0}) {
		t.Fatalf("ids %v in chunks %v; want %v in [4 2 0]", ids, sizes, want)
	}
	c := mustChunk(t, conn, ChunkOptions{Table: o.Table, Publication: o.Publication})
	if n := len(c.Plan.Relation.Columns); n != 2 {
		t.Fatalf("relation has %d columns, want 2 (id, v)", n)
	}
	// Without the publication every row and column is read.
	all, _ := readChunks(t, conn, ChunkOptions{Table: o.Table, Limit: 50})
	if len(all) != 20 || len(all[0]) != 3 {
		t.Fatalf("without a publication: %d rows of %d columns, want 20 of 3", len(all), len(all[0]))
	}
	// The key column is outside the column list: no usable chunk key.
	_, err := readChunk(t, conn, ChunkOptions{Table: Table{"public", "chunk_pub_nokey"}, Publication: "chunk_pub_p", Limit: 5})
	if !errors.Is(err, ErrNoChunkKey) || !strings.Contains(err.Error(), "public.chunk_pub_nokey") ||
		!strings.Contains(err.Error(), `"id"`) {
		t.Fatalf("key outside the column list: %v; want ErrNoChunkKey naming the table and column", err)
	}
}

func TestReadChunkErrors(t *testing.T) {
	_, conn := chunkConn(t, `CREATE TABLE chunk_keyless (a int, b text); INSERT INTO chunk_keyless VALUES (1, 'x');
		CREATE TABLE chunk_err (id int PRIMARY KEY); INSERT INTO chunk_err VALUES (1), (2);
		CREATE VIEW chunk_view AS SELECT 1 AS id`)
	_, err := readChunk(t, conn, ChunkOptions{Table: Table{"public", "chunk_keyless"}, Limit: 10})
	if !errors.Is(err, ErrNoChunkKey) || !strings.Contains(err.Error(), "public.chunk_keyless") {
		t.Errorf("keyless table: %v; want ErrNoChunkKey naming public.chunk_keyless", err)
	}
	for _, tbl := range []Table{{"public", "chunk_missing"}, {"chunk_no_schema", "t"}} {
		_, err = readChunk(t, conn, ChunkOptions{Table: tbl, Limit: 10})
		if !errors.Is(err, ErrNoTable) || !strings.Contains(err.Error(), tbl.String()) {
			t.Errorf("missing table %s: %v; want ErrNoTable naming it", tbl, err)
		}
		if errors.Is(err, ErrNoChunkKey) {
			t.Errorf("missing table %s: %v also wraps ErrNoChunkKey", tbl, err)
		}
	}
	_, err = readChunk(t, conn, ChunkOptions{Table: Table{"public", "chunk_view"}, Limit: 10})
	if err == nil || errors.Is(err, ErrNoTable) || !strings.Contains(err.Error(), "not a table") {
		t.Errorf("view: %v; want a not-a-table error", err)
	}
	tbl := Table{"public", "chunk_err"}
	_, err = readChunk(t, conn, ChunkOptions{Table: tbl, After: []string{"not-a-number"}, Limit: 10})
	if err == nil || !strings.Contains(err.Error(), "public.chunk_err") || !strings.Contains(err.Error(), "not-a-number") {
		t.Errorf("After of the wrong type: %v; want an error naming the table and After", err)
	}
	_, err = readChunk(t, conn, ChunkOptions{Table: tbl, After: []string{"1", "2"}, Limit: 10})
	if err == nil || !strings.Contains(err.Error(), "public.chunk_err") {
		t.Errorf("After with two values for a one-column key: %v; want an error", err)
	}
	if _, err = readChunk(t, conn, ChunkOptions{Table: tbl, Limit: -1}); err == nil {
		t.Error("negative Limit accepted")
	}
	// After all these failures the same connection still reads.
	if c := mustChunk(t, conn, ChunkOptions{Table: tbl, After: []string{"1"}, Limit: 10}); len(c.Rows) != 1 {
		t.Fatalf("after errors: %d rows, want 1", len(c.Rows))
	}
}

func TestReadChunkPrefersReplicaIdentityIndex(t *testing.T) {
	_, conn := chunkConn(t, `CREATE TABLE chunk_ri (id int PRIMARY KEY, code text NOT NULL, v int);
		CREATE UNIQUE INDEX chunk_ri_code ON chunk_ri (code);
		ALTER TABLE chunk_ri REPLICA IDENTITY USING INDEX chunk_ri_code;
		INSERT INTO chunk_ri SELECT g, 'c' || (100 - g), g FROM generate_series(1, 7) g`)
	tbl := Table{"public", "chunk_ri"}
	c := mustChunk(t, conn, ChunkOptions{Table: tbl, Limit: 3})
	if !reflect.DeepEqual(c.Plan.ChunkKey, []string{"code"}) || !reflect.DeepEqual(c.KeyColumns, []int{1}) {
		t.Fatalf("chunk key %v, key columns %v; want [code], [1]", c.Plan.ChunkKey, c.KeyColumns)
	}
	if got := c.Plan.Relation.KeyColumns(); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("relation key flags on columns %v, want [1] (code)", got)
	}
	// Primary key order would start at id 1 (c99); code order starts at id 7.
	if !reflect.DeepEqual(c.Last, []string{"c95"}) || len(c.Rows) != 3 || c.Rows[0][0] != int32(7) || c.Rows[0][1] != "c93" {
		t.Fatalf("first chunk %v, Last %q; want codes c93..c95 (ids 7..5), Last [c95]", c.Rows, c.Last)
	}
	rows, _ := readChunks(t, conn, ChunkOptions{Table: tbl, Limit: 3})
	for i := 1; i < len(rows); i++ {
		if rows[i-1][1].(string) >= rows[i][1].(string) {
			t.Fatalf("rows %v, %v out of code order", rows[i-1], rows[i])
		}
	}
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7", len(rows))
	}
	// Open's planning keeps the primary key.
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	w := &worker{r: &Reader{opts: Options{Log: zerolog.Nop()}, serverVersion: 150000}, conn: conn}
	p, err := w.plan(ctx, tbl)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.ChunkKey, []string{"id"}) {
		t.Errorf("Open's plan chunks by %v, want the primary key [id]", p.ChunkKey)
	}
}

func TestReadChunkSeesAlterTable(t *testing.T) {
	dsn, conn := chunkConn(t, `CREATE TABLE chunk_alter (id int PRIMARY KEY, v text);
		INSERT INTO chunk_alter SELECT g, 'v' || g FROM generate_series(1, 5) g`)
	tbl := Table{"public", "chunk_alter"}
	c1 := mustChunk(t, conn, ChunkOptions{Table: tbl, Limit: 2})
	testenv.ExecDSN(t, dsn, `ALTER TABLE chunk_alter ADD COLUMN extra int DEFAULT 7`)
	c2 := mustChunk(t, conn, ChunkOptions{Table: tbl, After: c1.Last, Limit: 2})
	names := func(c *Chunk) (n []string) {
		for _, col := range c.Plan.Relation.Columns {
			n = append(n, col.Name)
		}
		return n
	}
	if got := names(c1); !reflect.DeepEqual(got, []string{"id", "v"}) {
		t.Fatalf("first chunk's columns %v, want [id v]", got)
	}
	if got := names(c2); !reflect.DeepEqual(got, []string{"id", "v", "extra"}) {
		t.Fatalf("second chunk's columns %v, want [id v extra]", got)
	}
	if c1.Plan.Relation.OID != c2.Plan.Relation.OID {
		t.Errorf("relation OID changed from %d to %d", c1.Plan.Relation.OID, c2.Plan.Relation.OID)
	}
	want := [][]any{{int32(3), "v3", int32(7)}, {int32(4), "v4", int32(7)}}
	if !reflect.DeepEqual(c2.Rows, want) {
		t.Fatalf("second chunk rows %v, want %v", c2.Rows, want)
	}
}

func TestReadChunkLimitZeroPlansOnly(t *testing.T) {
	_, conn := chunkConn(t, `CREATE TABLE chunk_plan (k text, id bigint, v numeric(6,2), PRIMARY KEY (id, k));
		INSERT INTO chunk_plan VALUES ('a', 1, 1.5)`)
	c := mustChunk(t, conn, ChunkOptions{Table: Table{"public", "chunk_plan"}})
	if c.Rows != nil || c.Last != nil {
		t.Fatalf("Limit 0 read rows %v, Last %q", c.Rows, c.Last)
	}
	p := c.Plan
	if p == nil || p.Relation == nil || p.Decoder == nil || p.Table != (Table{"public", "chunk_plan"}) {
		t.Fatalf("plan %+v: Table, Relation and Decoder must be set", p)
	}
	if !reflect.DeepEqual(p.ChunkKey, []string{"id", "k"}) || !reflect.DeepEqual(c.KeyColumns, []int{1, 0}) {
		t.Fatalf("chunk key %v, key columns %v; want [id k], [1 0]", p.ChunkKey, c.KeyColumns)
	}
	if p.Rows != 0 || p.Chunks != 0 || p.Base != 0 || len(p.Relation.Columns) != 3 {
		t.Fatalf("plan rows %d chunks %d base %d columns %d; want 0 0 0 3", p.Rows, p.Chunks, p.Base, len(p.Relation.Columns))
	}
	row, err := p.Decoder.DecodeRow([][]byte{[]byte("x"), []byte("9"), []byte("1.25")})
	if err != nil || row[1] != int64(9) || fmt.Sprint(row[2]) != fmt.Sprint(dec(125, 2)) {
		t.Fatalf("decoder: %v, %v", row, err)
	}
}

// TestReadChunkWaitsForConcurrentAlter holds an uncommitted ALTER TABLE while
// ReadChunk starts: ReadChunk must wait for it and then plan and read the
// table as altered, never plan the old columns and read the new ones.
func TestReadChunkWaitsForConcurrentAlter(t *testing.T) {
	dsn, conn := chunkConn(t, `CREATE TABLE chunk_race (id int PRIMARY KEY, v text);
		INSERT INTO chunk_race SELECT g, 'v' || g FROM generate_series(1, 3) g`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alter, err := replication.ConnectSQL(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer alter.Close(context.Background())
	watch, err := replication.ConnectSQL(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	tx, err := alter.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `ALTER TABLE chunk_race DROP COLUMN v, ADD COLUMN w int DEFAULT 5`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		c   *Chunk
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ReadChunk(ctx, conn, ChunkOptions{Table: Table{"public", "chunk_race"}, Limit: 10, Log: zerolog.Nop()})
		done <- result{c, err}
	}()
	pid := conn.PgConn().PID()
	for waiting := false; !waiting; {
		select {
		case r := <-done:
			t.Fatalf("ReadChunk returned (%v) while an ALTER TABLE held the table", r.err)
		case <-time.After(20 * time.Millisecond):
		}
		if err := watch.QueryRow(ctx, `SELECT count(*) = 1 FROM pg_stat_activity
			WHERE pid = $1 AND wait_event_type = 'Lock'`, pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("ReadChunk after the ALTER committed: %v", r.err)
	}
	var cols []string
	for _, c := range r.c.Plan.Relation.Columns {
		cols = append(cols, c.Name)
	}
	want := [][]any{{int32(1), int32(5)}, {int32(2), int32(5)}, {int32(3), int32(5)}}
	if !reflect.DeepEqual(cols, []string{"id", "w"}) || !reflect.DeepEqual(r.c.Rows, want) {
		t.Fatalf("columns %v rows %v; want [id w] and %v", cols, r.c.Rows, want)
	}
}
