package decoder

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// staleQuerier answers its first stale queries from tx, a REPEATABLE READ
// transaction whose snapshot predates a DDL, and the rest from live: a
// catalog that does not show a decoded transaction's commit yet, as when
// the walsender decodes it before the commit is visible, then does.
type staleQuerier struct {
	mu    sync.Mutex
	tx    pgx.Tx
	live  Querier
	stale int
	calls int
}

func (q *staleQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.calls <= q.stale {
		return q.tx.QueryRow(ctx, sql, args...)
	}
	return q.live.QueryRow(ctx, sql, args...)
}

// TestPGKeyOrderDDLInTransaction: the auditor's finding 1 against a real
// PostgreSQL, made deterministic: the first key read after ADD PRIMARY KEY
// (pid, id) sees the catalog from before the DDL. The row written after the
// DDL, in the DDL's transaction, and the next transaction's row must both
// get the new index's order (pid, id), under one relation version.
func TestPGKeyOrderDDLInTransaction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, `CREATE TABLE S.c (id int PRIMARY KEY, pid int NOT NULL, v text)`, "c")
	old, err := pgx.Connect(ctx, pgDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close(context.Background())
	tx, err := old.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	q := &staleQuerier{tx: tx, live: s.conn, stale: 1}
	s.dec = New(Options{Types: NewCatalog(s.conn), Keys: NewCatalog(q)})
	s.exec(fmt.Sprintf(`BEGIN;
INSERT INTO %[1]s.c VALUES (7001, 7, 'a');
ALTER TABLE %[1]s.c DROP CONSTRAINT c_pkey, ADD PRIMARY KEY (pid, id);
INSERT INTO %[1]s.c VALUES (7002, 7, 'b');
COMMIT`, s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.c VALUES (7003, 7, 'c')", s.schema))
	changes := s.collect(ctx, 2)
	if len(changes) != 3 {
		t.Fatalf("%d changes, want 3", len(changes))
	}
	if q.calls < 2 {
		t.Fatalf("%d key reads, want the stale one and at least one more", q.calls)
	}
	if got := keyOrderNames(changes[0].Relation); got != "id" {
		t.Fatalf("pre-DDL row: key %q, want id", got)
	}
	post, next := changes[1].Relation, changes[2].Relation
	if got := keyOrderNames(post); got != "pid,id" {
		t.Fatalf("post-DDL row in the DDL's transaction: key order %q, want the index's pid,id", got)
	}
	if got := keyOrderNames(next); got != "pid,id" || next.Version != post.Version {
		t.Fatalf("next transaction: key order %q version %d, want pid,id version %d", got, next.Version, post.Version)
	}
}
