package checkpoint

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// testDSN returns the superuser DSN of the test database or skips the test,
// saying why.
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("WALRELAY_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("WALRELAY_TEST_PG_DSN is not set: no PostgreSQL to test the postgres checkpoint store against")
	}
	return dsn
}

// withParams returns dsn with connection parameters overridden, for both the
// URL and the keyword=value forms.
func withParams(t *testing.T, dsn string, kv map[string]string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		for k, v := range kv {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range kv {
		dsn += fmt.Sprintf(" %s='%s'", k, v)
	}
	return dsn
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
}

func TestPostgresStoreRoundTrip(t *testing.T) {
	dsn := testDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slot := uniqueName("cp_roundtrip")
	// A replication DSN (as the reader uses) must still give a SQL connection.
	s, err := NewPostgresStore(ctx, withParams(t, dsn, map[string]string{"replication": "database"}), slot)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, err := s.Load(ctx); ok || err != nil {
		t.Fatalf("Load before any Save = %v, %v; want false, nil", ok, err)
	}
	at := time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC)
	for _, lsn := range []uint64{0x16B3748, 0x1_0000_0010} {
		if err := s.Save(ctx, Position{LSN: event.LSN(lsn), Slot: slot, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Load(ctx)
		if err != nil || !ok {
			t.Fatalf("Load = %v, %v", ok, err)
		}
		if uint64(got.LSN) != lsn || got.Slot != slot || !got.UpdatedAt.Equal(at) {
			t.Fatalf("Load = %+v, want LSN %X at %s", got, lsn, at)
		}
	}

	// The row is where the constant says, typed pg_lsn, and other slots are separate.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var text string
	if err := conn.QueryRow(ctx, "SELECT lsn::text FROM "+TableName+" WHERE slot = $1 AND pg_typeof(lsn) = 'pg_lsn'::regtype", slot).Scan(&text); err != nil {
		t.Fatalf("reading %s directly: %v", TableName, err)
	}
	if text != "1/10" {
		t.Fatalf("%s.lsn = %q, want 1/10", TableName, text)
	}
	other, err := NewPostgresStore(ctx, dsn, slot+"_other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, ok, err := other.Load(ctx); ok || err != nil {
		t.Fatalf("Load for another slot = %v, %v; want false, nil", ok, err)
	}
}

func TestPostgresStoreReconnects(t *testing.T) {
	dsn := testDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app := uniqueName("cp_reconnect")
	s, err := NewPostgresStore(ctx, withParams(t, dsn, map[string]string{"application_name": app}), app)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(ctx, Position{LSN: 0x100, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminating the store's backend: killed %d, %v", killed, err)
	}
	// The call that meets the dead connection reconnects and retries once.
	if err := s.Save(ctx, Position{LSN: 0x200, UpdatedAt: time.Now()}); err != nil {
		t.Fatalf("Save after the backend was terminated: %v", err)
	}
	got, ok, err := s.Load(ctx)
	if err != nil || !ok || got.LSN != 0x200 {
		t.Fatalf("Load after reconnect = %s, %v, %v; want 0/200", got.LSN, ok, err)
	}
}

// A role that may not create the schema gets an error that names the table
// and says what to grant.
func TestPostgresStorePermissionHint(t *testing.T) {
	dsn := testDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	db, role := uniqueName("cp_perm_db"), uniqueName("cp_perm_role")
	for _, q := range []string{
		"CREATE DATABASE " + db,
		"CREATE ROLE " + role + " LOGIN PASSWORD 'pw'",
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
	}()
	_, err = NewPostgresStore(ctx, withParams(t, dsn, map[string]string{"dbname": db, "user": role, "password": "pw"}), "walrelay")
	if err == nil {
		t.Fatal("NewPostgresStore without CREATE privilege succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, TableName) || !strings.Contains(strings.ToLower(msg), "grant") {
		t.Fatalf("error %q does not name %s and say what to grant", msg, TableName)
	}
}

// TestPostgresStoreSilentConnection: the store's connection goes silent (a
// network partition: no FIN, no RST). The Save that meets it gives up after
// the operation timeout instead of waiting for TCP, and retries on a new
// connection.
func TestPostgresStoreSilentConnection(t *testing.T) {
	dsn := testDSN(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("WALRELAY_TEST_PG_DSN %q is not a URL with a host: cannot route it through a proxy", dsn)
	}
	proxy := testenv.StartFreezeProxy(t, u.Host)
	u.Host = proxy.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slot := uniqueName("cp_silent")
	s, err := NewPostgresStore(ctx, u.String(), slot)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.opTimeout = time.Second
	if err := s.Save(ctx, Position{LSN: 0x100, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze()
	start := time.Now()
	if err := s.Save(ctx, Position{LSN: 0x200, UpdatedAt: time.Now()}); err != nil {
		t.Fatalf("Save over a silent connection: %v (after %s)", err, time.Since(start))
	}
	t.Logf("Save went through a new connection %s after meeting the silent one", time.Since(start).Round(time.Millisecond))
	got, ok, err := s.Load(ctx)
	if err != nil || !ok || got.LSN != 0x200 {
		t.Fatalf("Load = %s, %v, %v; want 0/200", got.LSN, ok, err)
	}
}
