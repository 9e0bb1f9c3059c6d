package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// snapTable is a table of the snapshot tests: keyed tables have a version
// column that every update increments and a note derived from key and
// version; the keyless table is only ever inserted into.
type snapTable struct {
	name      string
	composite bool // key (tenant int, id bigint)
	full      bool // REPLICA IDENTITY FULL
	keyless   bool // no primary key: seq, note
}

var snapTables = []snapTable{
	{name: "snap_accounts"},
	{name: "snap_orders", composite: true},
	{name: "snap_items", full: true},
	{name: "snap_log", keyless: true},
}

const snapDDL = `
CREATE TABLE snap_accounts (id bigint PRIMARY KEY, version int NOT NULL, note text NOT NULL,
	amount numeric(12,2) NOT NULL DEFAULT 12.5, updated timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z');
CREATE TABLE snap_orders (tenant int NOT NULL, id bigint NOT NULL, version int NOT NULL, note text NOT NULL,
	PRIMARY KEY (tenant, id));
CREATE TABLE snap_items (id bigint PRIMARY KEY, version int NOT NULL, note text NOT NULL, tags text[]);
ALTER TABLE snap_items REPLICA IDENTITY FULL;
CREATE TABLE snap_log (seq bigint NOT NULL, note text NOT NULL);
` + markerDDL

// snapCaptured is the capture set of a snapshot test relay.
func snapCaptured() []string {
	out := []string{markerTable}
	for _, tb := range snapTables {
		out = append(out, "public."+tb.name)
	}
	return out
}

// snapExec runs SQL for a test or benchmark (mustExec takes a *testing.T).
func snapExec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// seedSnapTables fills each table with n[name] rows at version 1 and
// analyzes them (so pg_class.reltuples holds an estimate).
func seedSnapTables(t testing.TB, conn *pgx.Conn, n map[string]int) {
	t.Helper()
	for _, tb := range snapTables {
		var sql string
		switch {
		case tb.keyless:
			sql = "INSERT INTO snap_log SELECT g, 'log-' || g FROM generate_series(1, $1::int) g"
		case tb.composite:
			sql = "INSERT INTO snap_orders SELECT g % 10, g, 1, (g % 10) || '/' || g || '-v1' FROM generate_series(1, $1::int) g"
		case tb.full:
			sql = "INSERT INTO snap_items SELECT g, 1, g || '-v1', ARRAY['t' || g] FROM generate_series(1, $1::int) g"
		default:
			sql = "INSERT INTO " + tb.name + " (id, version, note) SELECT g, 1, g || '-v1' FROM generate_series(1, $1::int) g"
		}
		snapExec(t, conn, sql, n[tb.name])
	}
	snapExec(t, conn, "ANALYZE")
}

// snapNote is the note column of a keyed row at version v.
func snapNote(tb snapTable, tenant, id int64, v int64) string {
	if tb.composite {
		return fmt.Sprintf("%d/%d-v%d", tenant, id, v)
	}
	return fmt.Sprintf("%d-v%d", id, v)
}

func snapKey(tb snapTable, tenant, id int64) string {
	if tb.composite {
		return fmt.Sprintf("id=%d,tenant=%d", id, tenant)
	}
	return fmt.Sprintf("id=%d", id)
}

// snapWriter updates, deletes and inserts rows of the snapshot tables in
// small transactions until stopped.
type snapWriter struct {
	dsn     string
	maxID   map[string]*atomic.Int64
	commits atomic.Int64
	quit    atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	failure error
}

// startSnapWriter starts n writer goroutines; ids above seeded[name] are
// fresh inserts. t's cleanup stops them.
func startSnapWriter(t *testing.T, dsn string, n int, seeded map[string]int) *snapWriter {
	t.Helper()
	w := &snapWriter{dsn: dsn, maxID: map[string]*atomic.Int64{}}
	for _, tb := range snapTables {
		w.maxID[tb.name] = new(atomic.Int64)
		w.maxID[tb.name].Store(int64(seeded[tb.name]))
	}
	for i := range n {
		w.wg.Go(func() { w.run(uint64(i)) })
	}
	t.Cleanup(w.stop)
	return w
}

func (w *snapWriter) stop() { w.quit.Store(true); w.wg.Wait() }

func (w *snapWriter) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failure
}

func (w *snapWriter) run(seed uint64) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.dsn)
	if err != nil {
		w.fail(err)
		return
	}
	defer conn.Close(ctx)
	rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
	for !w.quit.Load() {
		b := &pgx.Batch{}
		for range 1 + rng.IntN(4) {
			w.queue(b, rng)
		}
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			w.fail(err)
			return
		}
		w.commits.Add(1)
		time.Sleep(time.Millisecond)
	}
}

// queue adds one random statement: on a keyed table 50% updates, 20%
// deletes, 30% inserts of a fresh key; on the keyless table an insert.
func (w *snapWriter) queue(b *pgx.Batch, rng *rand.Rand) {
	tb := snapTables[rng.IntN(len(snapTables))]
	maxID := w.maxID[tb.name]
	if tb.keyless {
		b.Queue("INSERT INTO snap_log VALUES ($1::bigint, 'late')", maxID.Add(1))
		return
	}
	id := 1 + rng.Int64N(maxID.Load())
	tenantSQL, where := "", "id = $1::bigint"
	if tb.composite {
		tenantSQL, where = "tenant || '/' || ", "tenant = $1::bigint % 10 AND id = $1::bigint"
	}
	switch p := rng.IntN(10); {
	case p < 5:
		b.Queue("UPDATE "+tb.name+" SET version = version + 1, note = "+tenantSQL+"id || '-v' || (version + 1) WHERE "+where, id)
	case p < 7:
		b.Queue("DELETE FROM "+tb.name+" WHERE "+where, id)
	default:
		id = maxID.Add(1)
		if tb.composite {
			b.Queue("INSERT INTO snap_orders VALUES ($1::bigint % 10, $1::bigint, 1, ($1::bigint % 10) || '/' || $1::bigint || '-v1')", id)
		} else {
			b.Queue("INSERT INTO "+tb.name+" (id, version, note) VALUES ($1::bigint, 1, $1::bigint || '-v1')", id)
		}
	}
}

func (w *snapWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failure == nil {
		w.failure = err
	}
}
