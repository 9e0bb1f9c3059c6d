package snapshot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/replication"
)

// keyOrderDDL has composite keys declared in an order other than the
// tables' columns: the primary key of stock, the replica identity index of
// byidx, and the primary key of a REPLICA IDENTITY FULL table.
const keyOrderDDL = `CREATE TABLE stock (sku text, wh int, qty int, PRIMARY KEY (wh, sku));
INSERT INTO stock VALUES ('s1', 1, 10);
CREATE TABLE byidx (sku text NOT NULL, wh int NOT NULL, qty int NOT NULL, PRIMARY KEY (sku));
CREATE UNIQUE INDEX byidx_ri ON byidx (qty, wh, sku);
ALTER TABLE byidx REPLICA IDENTITY USING INDEX byidx_ri;
CREATE TABLE fullpk (sku text, wh int, qty int, PRIMARY KEY (wh, sku));
ALTER TABLE fullpk REPLICA IDENTITY FULL;`

var keyOrderWant = map[string]string{"stock": "wh,sku", "byidx": "qty,wh,sku", "fullpk": "wh,sku"}

func keyOrderNames(rel *event.Relation) string {
	var ks []string
	for _, i := range rel.KeyColumns() {
		ks = append(ks, rel.Columns[i].Name)
	}
	return strings.Join(ks, ",")
}

// TestKeyOrderInPlans: the relation a snapshot plans for a table orders
// its key as the stream decoder does (the index's order, Debezium's), both
// in an initial snapshot (Open) and in an incremental chunk (ReadChunk), so
// snapshot reads and streamed changes carry the same key bytes.
func TestKeyOrderInPlans(t *testing.T) {
	dsn, conn := chunkConn(t, keyOrderDDL)
	for name, want := range keyOrderWant {
		c := mustChunk(t, conn, ChunkOptions{Table: Table{"public", name}})
		if got := keyOrderNames(c.Plan.Relation); got != want {
			t.Errorf("ReadChunk %s: key %q, want %q", name, got, want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Open(ctx, Options{
		Connect:     func(ctx context.Context) (*pgx.Conn, error) { return replication.ConnectSQL(ctx, dsn) },
		Snapshot:    export(t, dsn).Name,
		Tables:      []Table{{"public", "stock"}, {"public", "byidx"}, {"public", "fullpk"}},
		Parallelism: 1, ChunkSize: 100, BatchRows: 64, Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	for _, p := range r.Plans() {
		if got := keyOrderNames(p.Relation); got != keyOrderWant[p.Table.Name] {
			t.Errorf("Open %s: key %q, want %q", p.Table, got, keyOrderWant[p.Table.Name])
		}
	}
}
