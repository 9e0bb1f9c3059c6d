package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Names shared by the setup, both connectors and the workload.
const (
	pubName     = "parity_pub"
	markerEndID = 2 // the marker row written last
)

// step is one transaction of the workload, with a label for progress lines.
type step struct {
	label string
	sqls  []string
}

// workload is the sequence of transactions both connectors see: inserts of
// every value, an update of every column, an update of one non-key column,
// a delete, a primary-key change (also of a five-column key), the
// unchanged-TOAST update, a delete
// under REPLICA IDENTITY DEFAULT, a TRUNCATE, a transactional logical
// decoding message, the extended workload (extraSteps), and the end marker.
func workload(cols []column) []step {
	bigText := "(SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 400) g)"
	return append([]step{
		{"insert rows 1-4 (typical, edge, special, NULL)", []string{
			insertSQL(cols, 1, 0), insertSQL(cols, 2, 1), insertSQL(cols, 3, 2), insertSQL(cols, 4, -1),
		}},
		{"update every column of id 1", []string{updateAllSQL(cols, 1, 1)}},
		{"update c_text only of id 2", []string{"UPDATE alltypes SET c_text = 'changed' WHERE id = 2"}},
		{"delete id 4 (all NULL)", []string{"DELETE FROM alltypes WHERE id = 4"}},
		{"primary-key change id 3 -> 10", []string{"UPDATE alltypes SET id = 10 WHERE id = 3"}},
		{"five-column key: insert, then change two of its columns", []string{
			"INSERT INTO keyed VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 12.50, 1.5, '2024-02-29', 7, 'x')",
			"UPDATE keyed SET p = 99.99, n = 2.250 WHERE s = 7",
		}},
		{"toasty inserts (12.8 kB external text)", []string{
			"INSERT INTO toasty VALUES (1, " + bigText + ", 0, " + bigNumeric + ")",
			"INSERT INTO toasty VALUES (2, 'small', 0)",
		}},
		{"toasty update leaving the TOAST value unchanged", []string{"UPDATE toasty SET n = n + 1 WHERE id = 1"}},
		{"toasty delete under REPLICA IDENTITY DEFAULT", []string{"DELETE FROM toasty WHERE id = 2"}},
		{"truncate toasty", []string{"TRUNCATE toasty"}},
		{"transactional message + marker 1", []string{
			"SELECT pg_logical_emit_message(true, 'parity', 'hello ☃')",
			"INSERT INTO marker VALUES (1, 'with message')",
		}},
	}, append(extraSteps(), step{"end marker", []string{fmt.Sprintf("INSERT INTO marker VALUES (%d, 'end')", markerEndID)}})...)
}

// runWorkload applies steps, one transaction each, on conn.
func runWorkload(ctx context.Context, conn *pgx.Conn, steps []step) error {
	for _, s := range steps {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for _, q := range s.sqls {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("%w\nSQL: %s", err, clip(q, 300))
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("workload step %q: %w", s.label, err)
		}
		progress("workload: %s", s.label)
	}
	return nil
}

// setupDatabase creates a fresh database parity_<tag>_<unix time> on the
// server of adminDSN, the tables and publication of setupSQL, and the two
// logical slots of p, and returns the new database's DSN. For the snapshot
// pass it adds snapshotSetupSQL's tables, writes snapshotFill, and creates
// no slot: each connector creates its own with an exported snapshot, as on
// a first start.
func setupDatabase(ctx context.Context, adminDSN string, cols []column, p *pass) (string, error) {
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", redact(adminDSN), err)
	}
	defer admin.Close(ctx)
	db := fmt.Sprintf("parity_%s_%d", p.tag, time.Now().Unix())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return "", fmt.Errorf("create database %s: %w", db, err)
	}
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		return "", fmt.Errorf("parse DSN: %w", err)
	}
	cfg.Database = db
	dsn := withDatabase(adminDSN, db)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, setupSQL(cols)); err != nil {
		return "", fmt.Errorf("create tables in %s: %w", db, err)
	}
	if p.postgis {
		if _, err := conn.Exec(ctx, geoToastSQL); err != nil {
			return "", fmt.Errorf("create toasty_geo in %s: %w", db, err)
		}
	}
	if p.snapshot {
		if _, err := conn.Exec(ctx, snapshotSetupSQL()); err != nil {
			return "", fmt.Errorf("create snapshot tables in %s: %w", db, err)
		}
		if err := runWorkload(ctx, conn, snapshotFill(cols)); err != nil {
			return "", fmt.Errorf("fill %s before the snapshot: %w", db, err)
		}
		progress("database %s: tables filled, publication %s; the connectors create their slots", db, pubName)
		return dsn, nil
	}
	for _, slot := range []string{p.slotRelay(), p.slotDbz()} {
		if _, err := conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", slot); err != nil {
			return "", fmt.Errorf("create slot %s in %s: %w", slot, db, err)
		}
	}
	progress("database %s: tables, publication %s, slots %s and %s", db, pubName, p.slotRelay(), p.slotDbz())
	return dsn, nil
}

// dropSlots drops the two slots (so the server does not keep WAL for them)
// and leaves the database for inspection.
func dropSlots(ctx context.Context, dsn string, p *pass) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, slot := range []string{p.slotRelay(), p.slotDbz()} {
		_, _ = conn.Exec(ctx, "SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", slot)
	}
}

// clip shortens s to n bytes for error messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// hasPostGIS reports whether the server at dsn can create the postgis
// extension (the PostGIS columns are compared only then).
func hasPostGIS(ctx context.Context, dsn string) bool {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return false
	}
	defer conn.Close(ctx)
	var ok bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')").Scan(&ok)
	return err == nil && ok
}
