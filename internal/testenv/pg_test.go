package testenv

import (
	"context"
	"strings"
	"testing"
)

func TestPGIsLogical(t *testing.T) {
	pg := PG(t)
	t.Logf("PostgreSQL from %s", pg.Source())
	var level string
	if err := Connect(t, pg.DSN()).QueryRow(context.Background(), "SHOW wal_level").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "logical" {
		t.Fatalf("wal_level = %q, want logical", level)
	}
	if pg.Source() == EnvPGDSN && pg.Devenv() != nil {
		t.Fatal("a server from WALRELAY_TEST_PG_DSN must not claim to be restartable")
	}
}

func TestPGSharedWithinBinary(t *testing.T) {
	if PG(t).Source() == EnvPGDSN {
		t.Skip("skipping: WALRELAY_TEST_PG_DSN is set, so no throwaway cluster is shared")
	}
	a, b := PG(t), PG(t)
	if a.Devenv() == nil || a.Devenv() != b.Devenv() {
		t.Fatalf("two PG calls under testenv.Main got different clusters: %p, %p", a.Devenv(), b.Devenv())
	}
}

func TestNewDatabaseIsolatedAndDropped(t *testing.T) {
	pg := PG(t)
	var name string
	t.Run("user", func(t *testing.T) {
		dsn := pg.NewDatabase(t)
		conn := Connect(t, dsn)
		ctx := context.Background()
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "t_testnewdatabase") {
			t.Errorf("database name %q does not start with the test's name", name)
		}
		// A logical slot and an open session would both block a plain DROP DATABASE.
		ExecDSN(t, dsn, "CREATE TABLE x (id int primary key)",
			"SELECT pg_create_logical_replication_slot('"+name+"', 'pgoutput')")
	})
	// The subtest's cleanup has run: the database and its slot are gone.
	conn := Connect(t, pg.DSN())
	var dbs, slots int
	ctx := context.Background()
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&dbs); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", name).Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if name == "" || dbs != 0 || slots != 0 {
		t.Fatalf("after cleanup: database %q count %d, slots %d; want both 0", name, dbs, slots)
	}
}

func TestPrivatePGRestart(t *testing.T) {
	pg := PrivatePG(t)
	dev := pg.Devenv()
	if dev == nil {
		t.Fatal("PrivatePG().Devenv() = nil")
	}
	dsn := pg.NewDatabase(t)
	ExecDSN(t, dsn, "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('before')")
	if err := dev.Restart("immediate"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := Connect(t, dsn).QueryRow(context.Background(), "SELECT v FROM kept").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "before" {
		t.Fatalf("after restart v = %q", v)
	}
	// Leave it stopped: NewDatabase's cleanup must start it to drop the database.
	if err := dev.Stop("fast"); err != nil {
		t.Fatal(err)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, db, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "t_1",
			"postgres://postgres@127.0.0.1:5432/t_1?sslmode=disable"},
		{"postgresql://u:p@h/x", "y", "postgresql://u:p@h/y"},
		{"postgres://h:1", "d", "postgres://h:1/d"},
		{"host=h port=5 dbname=old user=u", "new", "host=h port=5 dbname='new' user=u"},
		{"host=h dbname='o ld' user=u", "n", "host=h dbname='n' user=u"},
		{"host=h user=u", "it's", `host=h user=u dbname='it\'s'`},
	} {
		got, err := withDatabase(tc.in, tc.db)
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q, %q) = %q, %v; want %q", tc.in, tc.db, got, err, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://u:secret@h/db":           "postgres://u:xxxxx@h/db",
		"host=h password=secret user=u":      "host=h password=xxxxx user=u",
		"host=h password='se cret' user=u":   "host=h password=xxxxx user=u",
		"postgres://postgres@127.0.0.1:1/db": "postgres://postgres@127.0.0.1:1/db",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
