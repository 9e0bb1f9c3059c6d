package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// Names of the bench's objects in PostgreSQL. Everything is prefixed, so a
// run against a shared server (--dsn) touches nothing else; dropObjects
// removes leftovers of an earlier, interrupted run.
const (
	benchSchema    = "walrelay_bench"
	backlogPub     = "walrelay_bench_backlog"
	latencyPub     = "walrelay_bench_latency"
	debeziumPub    = "walrelay_bench_debezium" // backlog tables and the latency table
	latencyTable   = "latency"
	slotPrefix     = "walrelay_bench_"
	orderTableBase = "orders_"
)

// orderColumns is the orders-like shape: bigint key, int, text,
// numeric(12,2), jsonb, timestamptz.
const orderColumns = `(
	id          bigint PRIMARY KEY,
	customer_id integer NOT NULL,
	note        text NOT NULL,
	amount      numeric(12,2) NOT NULL,
	attrs       jsonb NOT NULL,
	created_at  timestamptz NOT NULL)`

// insertRows inserts the ids [$1, $2] into one table; %s is the table.
const insertRows = `INSERT INTO %s (id, customer_id, note, amount, attrs, created_at)
SELECT g, (g * 7919) %% 100000,
	'order ' || g || ' ' || (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + g %% 5] || ' via web shop',
	((g * 31) %% 1000000) / 100.0,
	jsonb_build_object('sku', 'SKU-' || (g %% 5000), 'qty', 1 + g %% 9, 'gift', g %% 11 = 0, 'tags', jsonb_build_array('web', 'eu')),
	clock_timestamp()
FROM generate_series($1::bigint, $2::bigint) AS g`

// orderTables returns the qualified names of the n backlog tables.
func orderTables(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s.%s%d", benchSchema, orderTableBase, i+1)
	}
	return out
}

// Backlog is what was written for every consumer to read.
type Backlog struct {
	Rows         int     `json:"rows"`
	Transactions int     `json:"transactions"`
	Tables       int     `json:"tables"`
	StartLSN     string  `json:"start_lsn"`
	EndLSN       string  `json:"end_lsn"`
	WALBytes     int64   `json:"wal_bytes"`
	WriteSeconds float64 `json:"write_seconds"`
	end          pglogrepl.LSN
}

// prepareSchema drops leftovers and creates the schema, tables and publications.
func prepareSchema(ctx context.Context, db *pgx.Conn, tables int) error {
	if err := dropObjects(ctx, db); err != nil {
		return err
	}
	stmts := []string{"CREATE SCHEMA " + benchSchema}
	for _, t := range orderTables(tables) {
		stmts = append(stmts, "CREATE TABLE "+t+" "+orderColumns)
	}
	lat := benchSchema + "." + latencyTable
	stmts = append(stmts,
		"CREATE TABLE "+lat+" "+orderColumns,
		"CREATE PUBLICATION "+backlogPub+" FOR TABLE "+strings.Join(orderTables(tables), ", "),
		"CREATE PUBLICATION "+latencyPub+" FOR TABLE "+lat,
		"CREATE PUBLICATION "+debeziumPub+" FOR TABLE "+strings.Join(orderTables(tables), ", ")+", "+lat)
	for _, s := range stmts {
		if _, err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare schema: %s: %w", s, err)
		}
	}
	return nil
}

// dropObjects removes the bench's slots, publications and schema. Active
// slots (a consumer still running) are terminated first.
func dropObjects(ctx context.Context, db *pgx.Conn) error {
	if _, err := db.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
		WHERE slot_name LIKE $1 AND active_pid IS NOT NULL`, slotPrefix+"%"); err != nil {
		return fmt.Errorf("terminate bench walsenders: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := db.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE slot_name LIKE $1`, slotPrefix+"%")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drop bench slots %s*: %w", slotPrefix, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, s := range []string{
		"DROP PUBLICATION IF EXISTS " + backlogPub,
		"DROP PUBLICATION IF EXISTS " + latencyPub,
		"DROP PUBLICATION IF EXISTS " + debeziumPub,
		"DROP SCHEMA IF EXISTS " + benchSchema + " CASCADE",
	} {
		if _, err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("clean up: %s: %w", s, err)
		}
	}
	return nil
}

// createSlot creates a pgoutput slot at the current end of WAL.
func createSlot(ctx context.Context, db *pgx.Conn, name string) error {
	if _, err := db.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", name); err != nil {
		return fmt.Errorf("create slot %s: %w (max_replication_slots too low?)", name, err)
	}
	return nil
}

// dropSlot drops a slot once its consumer is gone (waits up to 10 s).
func dropSlot(ctx context.Context, db *pgx.Conn, name string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := db.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", name); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	progress("could not drop slot %s (still active?); it is dropped at the end", name)
}

// writeBacklog inserts rows in transactions of txSize, round robin over the
// tables, and returns the WAL range they occupy. The end LSN is the insert
// position right after the last commit: the end of its commit record, the
// position walrelay checkpoints and pg_recvlogical --endpos stops at.
func writeBacklog(ctx context.Context, db *pgx.Conn, rows, txSize, tables int) (Backlog, error) {
	b := Backlog{Rows: rows, Tables: tables}
	var start pglogrepl.LSN
	if err := db.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(lsnScanner{&start}); err != nil {
		return b, fmt.Errorf("backlog: read start LSN: %w", err)
	}
	names := orderTables(tables)
	t0 := time.Now()
	next := time.Now()
	for first := 1; first <= rows; first += txSize {
		last := min(first+txSize-1, rows)
		table := names[b.Transactions%tables]
		if _, err := db.Exec(ctx, fmt.Sprintf(insertRows, table), first, last); err != nil {
			return b, fmt.Errorf("backlog: insert ids %d..%d into %s: %w", first, last, table, err)
		}
		b.Transactions++
		if time.Now().After(next) {
			progress("backlog: %d/%d rows", last, rows)
			next = time.Now().Add(10 * time.Second)
		}
	}
	b.WriteSeconds = time.Since(t0).Seconds()
	if err := db.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(lsnScanner{&b.end}); err != nil {
		return b, fmt.Errorf("backlog: read end LSN: %w", err)
	}
	b.StartLSN, b.EndLSN = start.String(), b.end.String()
	b.WALBytes = int64(b.end - start)
	return b, nil
}

// lsnScanner scans the text form of an LSN.
type lsnScanner struct{ p *pglogrepl.LSN }

func (s lsnScanner) Scan(src any) error {
	str, ok := src.(string)
	if !ok {
		return fmt.Errorf("LSN: unexpected %T", src)
	}
	v, err := pglogrepl.ParseLSN(str)
	*s.p = v
	return err
}

// slotState is a slot's activity, for timing consumers.
type slotState struct {
	active    bool
	pid       int
	confirmed pglogrepl.LSN
}

// readSlot reads a slot's state; a missing slot is an error.
func readSlot(ctx context.Context, db *pgx.Conn, name string) (slotState, error) {
	var st slotState
	var pid *int32
	var confirmed *string
	err := db.QueryRow(ctx, `SELECT active, active_pid, confirmed_flush_lsn::text FROM pg_replication_slots
		WHERE slot_name = $1`, name).Scan(&st.active, &pid, &confirmed)
	if err != nil {
		return st, fmt.Errorf("read slot %s: %w", name, err)
	}
	if pid != nil {
		st.pid = int(*pid)
	}
	if confirmed != nil {
		st.confirmed, _ = pglogrepl.ParseLSN(*confirmed)
	}
	return st, nil
}
