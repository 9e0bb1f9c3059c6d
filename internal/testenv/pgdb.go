package testenv

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DSNFor returns the superuser DSN of database db on p's server.
func (p *Postgres) DSNFor(t testing.TB, db string) string {
	t.Helper()
	dsn, err := withDatabase(p.dsn, db)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return dsn
}

// NewDatabase creates a database with a fresh random name (prefixed with the
// test's name) and returns its superuser DSN. At t's cleanup it terminates
// the database's backends and walsenders, drops its replication slots and
// drops it; a failure there fails t.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	name := "t_" + slug(t, 30) + "_" + randomHex(4)
	p.Exec(t, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		if p.dev != nil && !p.dev.Running() {
			if err := p.dev.Start(); err != nil {
				t.Errorf("testenv: start PostgreSQL again to drop database %s: %v", name, err)
				return
			}
		}
		if err := dropDatabase(p.dsn, name); err != nil {
			t.Errorf("testenv: drop test database %s: %v", name, err)
		}
	})
	return p.DSNFor(t, name)
}

// dropDatabase terminates every session on db (walsenders included), drops
// its replication slots (a logical slot blocks DROP DATABASE) and drops it.
func dropDatabase(adminDSN, db string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for {
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, db); err != nil {
			return fmt.Errorf("terminate backends: %w", err)
		}
		_, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE database = $1 AND NOT active`, db)
		if err != nil {
			return fmt.Errorf("drop replication slots: %w", err)
		}
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE database = $1`, db).Scan(&left); err != nil {
			return fmt.Errorf("count replication slots: %w", err)
		}
		if left == 0 {
			break
		}
		select { // a terminated walsender releases its slot a moment later
		case <-ctx.Done():
			return fmt.Errorf("%d replication slot(s) still active: %w", left, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	return nil
}

// Exec runs each statement on p's maintenance database (as superuser) and
// fails t on the first error, naming the statement.
func (p *Postgres) Exec(t testing.TB, sql ...string) {
	t.Helper()
	ExecDSN(t, p.dsn, sql...)
}

// ExecDSN runs each statement on dsn and fails t on the first error, naming
// the statement. Statements may hold several commands separated by ';'.
func ExecDSN(t testing.TB, dsn string, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("testenv: connect %s: %v", redact(dsn), err)
	}
	defer conn.Close(context.Background())
	for _, stmt := range sql {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("testenv: %s: %v", stmt, err)
		}
	}
}

// Connect opens a pgx connection to dsn that is closed at t's cleanup.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("testenv: connect %s: %v", redact(dsn), err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// dbnameKV matches the dbname setting of a keyword/value DSN.
var dbnameKV = regexp.MustCompile(`(^|\s)dbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// withDatabase returns dsn (URL or keyword/value form) pointing at db.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN %s: %w", redact(dsn), err)
		}
		u.Path = "/" + db
		u.RawPath = ""
		return u.String(), nil
	}
	kv := "dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db) + "'"
	if dbnameKV.MatchString(dsn) {
		return dbnameKV.ReplaceAllLiteralString(dsn, " "+kv), nil
	}
	return strings.TrimSpace(dsn + " " + kv), nil
}

// redact hides the password of a DSN for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`).ReplaceAllString(dsn, "password=xxxxx")
}
