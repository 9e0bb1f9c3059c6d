package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/devenv"
	"github.com/walrelay/walrelay/internal/pgdsn"
	"github.com/walrelay/walrelay/pipeline"
)

// demoWrites is what the demo does to the database once walrelay streams.
var demoWrites = []string{
	`INSERT INTO walrelay_demo.customers (name, email) VALUES ('Ada', 'ada@example.com'), ('Linus', 'linus@example.com')`,
	`BEGIN; INSERT INTO walrelay_demo.orders (customer_id, amount, status) VALUES (1, 19.99, 'new'), (1, 5.00, 'new'), (2, 120.50, 'new'); COMMIT`,
	`UPDATE walrelay_demo.orders SET status = 'paid' WHERE id = 1`,
	`DELETE FROM walrelay_demo.orders WHERE id = 2`,
}

// demoEvents is how many Kafka records demoWrites produce: 2 + 3 inserts,
// 1 update, 1 delete and its tombstone.
const demoEvents = 8

const demoSchema = `
DROP SCHEMA IF EXISTS walrelay_demo CASCADE;
CREATE SCHEMA walrelay_demo;
CREATE TABLE walrelay_demo.customers (id serial PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE walrelay_demo.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL,
  amount numeric(10,2) NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`

// cmdDemo implements `walrelay demo`.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "", "use this PostgreSQL (wal_level=logical, a role with REPLICATION) instead of a throwaway one")
	brokers := fs.String("brokers", "", "use these Kafka brokers (comma-separated) instead of an in-process one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	services, err := startDemoServices(ctx, *dsn, *brokers, say)
	if err != nil {
		return err
	}
	defer services.close()
	return runDemo(ctx, services, say, stderr)
}

// demoServices are the database and brokers the demo uses, and how to clean up.
type demoServices struct {
	dsn     string
	brokers []string
	cleanup []func()
}

func (d *demoServices) close() {
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
}

func startDemoServices(ctx context.Context, dsn, brokers string, say func(string, ...any)) (*demoServices, error) {
	d := &demoServices{dsn: dsn}
	if dsn == "" {
		say("Starting a throwaway PostgreSQL (wal_level=logical) from the local binaries ...")
		pg, err := devenv.StartPostgres(ctx, devenv.PGOptions{})
		if err != nil {
			return nil, fmt.Errorf("demo: %w (or pass --dsn to use an existing server)", err)
		}
		d.cleanup = append(d.cleanup, func() { _ = pg.Close() })
		d.dsn = pg.DSN("postgres")
	}
	if brokers == "" {
		say("Starting an in-process Kafka-protocol broker (franz-go kfake) ...")
		k, err := devenv.StartKafka(ctx)
		if err != nil {
			d.close()
			return nil, fmt.Errorf("demo: in-process broker: %w", err)
		}
		d.cleanup = append(d.cleanup, k.Close)
		d.brokers = k.Brokers()
	} else {
		d.brokers = strings.Split(brokers, ",")
	}
	return d, nil
}

func runDemo(ctx context.Context, svc *demoServices, say func(string, ...any), stderr io.Writer) error {
	if err := pgdsn.CheckURL(svc.dsn); err != nil {
		return fmt.Errorf("demo: --dsn: %w", err)
	}
	db, err := pgx.Connect(ctx, svc.dsn)
	if err != nil {
		return fmt.Errorf("demo: connecting to %s: %w", pgdsn.Redact(svc.dsn), pgdsn.Wrap(err, svc.dsn))
	}
	defer db.Close(context.Background())
	if _, err := db.Exec(ctx, demoSchema); err != nil {
		return fmt.Errorf("demo: creating the demo tables: %w", err)
	}
	defer dropDemoObjects(db)

	cfg, dataDir, err := demoConfig(svc)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	streaming := make(chan struct{}, 1)
	runCtx, stopRelay := context.WithCancel(ctx)
	done := make(chan error, 1)
	// Warnings and errors only, and not the "stopped" line Run prints at any
	// level: the demo's own lines say how it ended.
	quiet := zerolog.HookFunc(func(e *zerolog.Event, level zerolog.Level, msg string) {
		if msg == "stopped" && level < zerolog.WarnLevel {
			e.Discard()
		}
	})
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly, NoColor: !colourful(stderr)}).
		Level(zerolog.WarnLevel).Hook(quiet).With().Timestamp().Logger()
	go func() {
		done <- pipeline.Run(runCtx, pipeline.Options{Config: cfg, Log: log, Version: version,
			OnStreaming: func() { streaming <- struct{}{} }})
	}()
	select {
	case <-streaming:
	case err := <-done:
		stopRelay()
		return fmt.Errorf("demo: walrelay did not start: %w", err)
	case <-ctx.Done():
		stopRelay()
		return <-done
	}
	from, err := demoStartOffsets(ctx, svc.brokers, cfg.TopicPrefix) // before this run writes
	if err != nil {
		stopRelay()
		<-done
		return err
	}
	say("walrelay is streaming (slot %s, topics %s.walrelay_demo.*). Writing to the database:", cfg.Postgres.Slot, cfg.TopicPrefix)
	for _, sql := range demoWrites {
		say("  %s", sql)
		if _, err := db.Exec(ctx, sql); err != nil {
			stopRelay()
			<-done
			return fmt.Errorf("demo: %s: %w", sql, err)
		}
	}
	say("\nWhat a Kafka consumer reads back:")
	consumeErr := printDemoEvents(ctx, svc.brokers, cfg.TopicPrefix, from, say)
	stopRelay()
	if err := <-done; err != nil {
		return err
	}
	if consumeErr != nil {
		return consumeErr
	}
	say("\nEvery committed change arrived, in commit order per key, each with a stable event ID (ce_id)")
	say("that consumers use to drop the duplicates a restart may cause. Values are Debezium's: numeric")
	say("columns are base64 decimals (\"B88=\" is 1999 at scale 2, i.e. 19.99), timestamptz is ISO-8601 UTC.")
	return nil
}

func demoConfig(svc *demoServices) (*config.Config, string, error) {
	dataDir, err := os.MkdirTemp("", "walrelay-demo-")
	if err != nil {
		return nil, "", err
	}
	env := []string{
		"WALRELAY_POSTGRES_DSN=" + svc.dsn,
		"WALRELAY_POSTGRES_SLOT=walrelay_demo",
		"WALRELAY_POSTGRES_PUBLICATION=walrelay_demo",
		"WALRELAY_POSTGRES_TABLES=walrelay_demo.customers,walrelay_demo.orders",
		"WALRELAY_KAFKA_BROKERS=" + strings.Join(svc.brokers, ","),
		"WALRELAY_KAFKA_TOPIC_PARTITIONS=1",
		"WALRELAY_TOPIC_PREFIX=demo",
		"WALRELAY_FORMAT=json", // readable on the terminal; avro is the default
		"WALRELAY_DATA_DIR=" + dataDir,
	}
	cfg, err := config.Load("", env)
	if err != nil {
		os.RemoveAll(dataDir)
		return nil, "", err
	}
	return cfg, dataDir, nil
}

// dropDemoObjects removes the demo's slot, publication and tables.
func dropDemoObjects(db *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 20; i++ {
		_, err := db.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'walrelay_demo'`)
		if err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond) // the walsender may still hold it for a moment
	}
	_, _ = db.Exec(ctx, `DROP PUBLICATION IF EXISTS walrelay_demo; DROP SCHEMA IF EXISTS walrelay_demo CASCADE`)
}

var errDemoIncomplete = errors.New("demo: not every event arrived")
