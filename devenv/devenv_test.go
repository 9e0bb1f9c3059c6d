package devenv

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startPG starts a cluster for one test or skips when the binaries are
// missing (saying so); any other failure fails the test.
func startPG(t *testing.T, opts PGOptions) *Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := StartPostgres(ctx, opts)
	if errors.Is(err, ErrNoPostgresBinaries) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("StartPostgres: %v", err)
	}
	t.Cleanup(func() {
		if err := pg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return pg
}

// queryString runs a one-value query on dsn.
func queryString(t *testing.T, dsn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestPostgresLifecycle(t *testing.T) {
	pg := startPG(t, PGOptions{Settings: map[string]string{"wal_sender_timeout": "10s"}})
	dsn := pg.DSN("postgres")

	for sql, want := range map[string]string{
		"SHOW wal_level":             "logical",
		"SHOW max_replication_slots": "20",
		"SHOW max_wal_senders":       "20",
		"SHOW fsync":                 "off",
		"SHOW wal_sender_timeout":    "10s",
		"SHOW listen_addresses":      "127.0.0.1",
		"SELECT current_user":        "postgres",
	} {
		if got := queryString(t, dsn, sql); got != want {
			t.Errorf("%s = %q, want %q", sql, got, want)
		}
	}

	// Data written before a fast stop survives the restart on the same port.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (id int primary key); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	port := pg.Port()

	if err := pg.Stop("fast"); err != nil {
		t.Fatalf("Stop(fast): %v", err)
	}
	if pg.Running() {
		t.Fatal("Running() after Stop = true")
	}
	if _, err := pgx.Connect(ctx, dsn); err == nil {
		t.Fatal("connect after Stop succeeded, want connection refused")
	}
	if err := pg.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if pg.Port() != port {
		t.Fatalf("port after restart = %d, want %d", pg.Port(), port)
	}
	if got := queryString(t, dsn, "SELECT id::text FROM kept"); got != "42" {
		t.Fatalf("row after restart = %q, want 42", got)
	}

	// A crash (immediate stop) loses no committed transaction.
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO kept VALUES (43)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := pg.Restart("immediate"); err != nil {
		t.Fatalf("Restart(immediate): %v", err)
	}
	if got := queryString(t, dsn, "SELECT count(*)::text FROM kept"); got != "2" {
		t.Fatalf("rows after immediate restart = %s, want 2", got)
	}
	if got := queryString(t, dsn, "SHOW wal_level"); got != "logical" {
		t.Fatalf("wal_level after immediate restart = %q", got)
	}

	// SetConfig reloads a reloadable parameter.
	if err := pg.SetConfig("wal_sender_timeout", "7s"); err != nil {
		t.Fatalf("SetConfig: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for queryString(t, dsn, "SHOW wal_sender_timeout") != "7s" {
		if time.Now().After(deadline) {
			t.Fatal("wal_sender_timeout not 7s after SetConfig+reload")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := pg.Stop("bogus"); err == nil {
		t.Error("Stop(bogus) = nil, want an error")
	}
}

func TestPostgresReplicationConnection(t *testing.T) {
	pg := startPG(t, PGOptions{})
	// A logical slot needs wal_level=logical and a replication-capable user.
	got := queryString(t, pg.DSN(""),
		"SELECT slot_name::text FROM pg_create_logical_replication_slot('devenv_test', 'pgoutput')")
	if got != "devenv_test" {
		t.Fatalf("slot = %q", got)
	}
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(pg.DSN("postgres") + "&replication=database")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("replication connection: %v", err)
	}
	conn.Close(ctx)
}

func TestFindPostgresBinDirMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := StartPostgres(context.Background(), PGOptions{BinDir: t.TempDir()})
	if !errors.Is(err, ErrNoPostgresBinaries) {
		t.Fatalf("err = %v, want ErrNoPostgresBinaries", err)
	}
	if want := "apt-get install postgresql"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}

func TestKafkaProduceConsumeAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := StartKafka(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if k.Cluster() == nil {
		t.Fatal("Cluster() = nil while running")
	}
	brokers := k.Brokers()

	produce := func(value string) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		r := &kgo.Record{Topic: "devenv.test", Key: []byte("k"), Value: []byte(value)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", value, err)
		}
	}
	consume := func(want int) []string {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("devenv.test"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		var got []string
		for len(got) < want {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("consumed %d of %d records: %v", len(got), want, err)
			}
			fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		return got
	}

	produce("one")
	if got := consume(1); got[0] != "one" {
		t.Fatalf("consumed %q, want [one]", got)
	}

	k.Stop()
	if k.Cluster() != nil {
		t.Fatal("Cluster() != nil after Stop")
	}
	if err := k.Start(); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	if got := k.Brokers(); got[0] != brokers[0] {
		t.Fatalf("brokers after restart = %v, want %v", got, brokers)
	}
	produce("two")
	got := consume(2)
	if len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("after restart consumed %q, want [one two]", got)
	}
}
