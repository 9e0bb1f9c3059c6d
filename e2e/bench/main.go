// Command bench measures walrelay's throughput, latency and memory against
// the server's own decoding limit (pg_recvlogical) and, with
// --with-debezium, Debezium Server, on one backlog, in one PostgreSQL, into
// one Kafka broker, in one run:
//
//	go run ./e2e/bench --rows 100000            # quick: about a minute
//	go run ./e2e/bench --with-debezium          # full: 1,000,000 rows
//
// It is a program, not a test: `go test ./...` does not run it. Without
// --dsn it starts a throwaway PostgreSQL from the local binaries (devenv);
// without --brokers it starts a real Kafka broker with .ci/kafka.sh
// (--brokers kfake runs an in-process broker instead, quick but not
// comparable). It prints a table and, with --json-out, writes the same
// numbers as JSON. Every figure comes from this run. See README,
// "Benchmarks".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	os.Exit(realMain(os.Args[1:]))
}

// realMain runs the bench and returns the exit code: 0 when every phase
// ran (targets may be missed), 1 when a phase failed, 2 for bad flags.
func realMain(args []string) int {
	o, err := parseOptions(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := &Report{StartedAt: time.Now().UTC(), Machine: readMachine()}
	err = runBench(ctx, o, rep)
	rep.Machine.LoadEnd = loadAvg()
	if err != nil {
		rep.Error = err.Error()
	}
	if len(rep.Settings.Formats) > 0 {
		computeTargets(rep)
	}
	printReport(os.Stdout, rep)
	if o.jsonOut != "" {
		if werr := writeJSON(o.jsonOut, rep); werr != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", werr)
			return 1
		}
		progress("results written to %s", o.jsonOut)
	}
	if err != nil || anyFailed(rep) {
		return 1
	}
	return 0
}

// bench holds the state of one run. Its methods run on the main goroutine.
type bench struct {
	o       options
	rep     *Report
	root    string // module root
	work    string // temporary directory: binary, configs, logs
	svc     *services
	db      *pgx.Conn // control connection: schema, slots, polling
	adm     *kafkaAdmin
	relays  []relayBinary // the walrelay under test, then --compare-bin's
	formats []string
	backlog Backlog
	dbzDist string   // unpacked debezium-server directory
	dbzAvro *dbzAvro // the Debezium Avro pass's setup; nil = no Avro pass
	javaBin string   // java for Debezium Server
	runID   string   // makes this run's topic names unique on a broker that outlives it
}

// topicPrefix is the topic prefix of the run on slot: the slot's name and
// the run's ID, so that a broker used before (services.sh, an existing
// cluster) has none of these topics yet.
func (b *bench) topicPrefix(slot string) string {
	return strings.ReplaceAll(slot, "_", "-") + "-" + b.runID
}

// runBench prepares the services and the backlog and runs every phase.
func runBench(ctx context.Context, o options, rep *Report) (err error) {
	b := &bench{o: o, rep: rep, runID: strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36)}
	if b.root, err = findModuleRoot(); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp("", "walrelay-bench-"); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	if o.keep {
		rep.note("work directory kept: " + b.work)
	} else {
		defer os.RemoveAll(b.work)
	}
	if err := b.prepareRelays(ctx); err != nil {
		return err
	}
	if o.debezium {
		if err := b.prepareDebezium(ctx); err != nil {
			rep.note("Debezium Server skipped: " + err.Error())
			b.o.debezium = false
		} else if slices.Contains(o.formats(), "avro") {
			if err := b.prepareDebeziumAvro(ctx); err != nil {
				rep.note("Debezium Server avro skipped: " + err.Error())
			}
		}
	}
	if b.svc, err = startServices(ctx, o, b.root, b.work); err != nil {
		return err
	}
	defer b.svc.close()
	rep.Machine.Broker, rep.Machine.PostgresSrc = b.svc.brokerKind, b.svc.pgLabel
	if b.db, err = pgx.Connect(ctx, b.svc.dsn); err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer b.db.Close(context.Background())
	if b.adm, err = newKafkaAdmin(b.svc.brokers); err != nil {
		return err
	}
	defer b.adm.close()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	if !o.keep || o.dsn == "" {
		defer func() { _ = dropObjects(context.Background(), b.db) }()
	}
	slots, err := b.writeSlotsAndBacklog(ctx)
	if err != nil {
		return err
	}
	b.backlogPhases(ctx, slots)
	b.debeziumAndLatency(ctx, slots)
	return ctx.Err()
}

// prepare settles the formats, creates the schema and every backlog slot,
// then writes the backlog.
func (b *bench) prepare(ctx context.Context) error {
	if err := b.db.QueryRow(ctx, "SELECT version()").Scan(&b.rep.Machine.PGVersion); err != nil {
		return fmt.Errorf("PostgreSQL version: %w", err)
	}
	b.rep.Machine.PGVersion, _, _ = strings.Cut(b.rep.Machine.PGVersion, " on ")
	if err := prepareSchema(ctx, b.db, b.o.tables); err != nil {
		return err
	}
	b.formats = b.o.formats()
	if err := b.checkFormats(ctx); err != nil {
		return err
	}
	b.rep.Settings = Settings{Rows: b.o.rows, TxSize: b.o.txSize, Tables: b.o.tables, Formats: b.formats, Repeat: b.o.repeat}
	if b.o.debezium {
		b.rep.Settings.Debezium = b.o.dbzVersion
		b.rep.note("Debezium Server json runs with schemas.enable=false (the shape of walrelay's JSON)")
		if b.dbzAvro != nil {
			b.rep.note("Debezium Server avro runs with Apicurio Registry " + apicurioConverterVersion + "'s AvroConverter (key and value, auto-register) against a registry .ci/apicurio.sh starts for that pass alone; backlog only, no latency phase")
		}
	}
	if b.o.kfake() {
		b.rep.note("BROKER IS KFAKE (in-process, inside the bench): quick check only, not comparable with a real broker")
	}
	b.rep.note("the backlog's slots were created before it was written; every pass reads the same WAL from its own slot")
	b.rep.note("every process measured (walrelay, pg_recvlogical, Debezium Server) runs in a session of its own, as a service manager starts a service; with CPU autogroups on, the kernel shares a busy CPU between sessions before threads")
	return nil
}

// prepareRelays builds (or takes) the walrelay binary and the one to compare.
func (b *bench) prepareRelays(ctx context.Context) error {
	var a relayBinary
	var err error
	if b.o.relayBin != "" {
		a, err = newRelayBinary(ctx, "walrelay", "wr", b.o.relayBin)
	} else {
		progress("building walrelay (go build) into %s", b.work)
		a, err = buildRelay(ctx, b.root, b.work)
	}
	if err != nil {
		return err
	}
	b.relays = []relayBinary{a}
	b.rep.note("walrelay binary: " + a.path)
	if len(b.o.relayEnv) > 0 {
		b.rep.note("walrelay environment (--walrelay-env): " + b.o.relayEnv.String())
	}
	if b.o.compareBin != "" {
		c, err := newRelayBinary(ctx, "walrelay-B", "wrb", b.o.compareBin)
		if err != nil {
			return err
		}
		b.relays = append(b.relays, c)
		b.rep.note("walrelay-B binary (--compare-bin): " + c.path)
	}
	return nil
}

// prepareDebezium finds a Java for Debezium Server and fetches it.
func (b *bench) prepareDebezium(ctx context.Context) error {
	java, v, err := findJava(debeziumMinJava)
	if err != nil {
		return err
	}
	b.javaBin = java
	b.rep.note(fmt.Sprintf("Debezium Server runs on Java %d (%s), JAVA_OPTS %q, extra properties %q", v, java, b.o.dbzJavaOpt, b.o.dbzProps.String()))
	b.dbzDist, err = ensureDebezium(ctx, b.o.dbzVersion)
	return err
}

// writeSlotsAndBacklog creates every backlog slot, then writes the backlog.
func (b *bench) writeSlotsAndBacklog(ctx context.Context) (slotNames, error) {
	s := b.planSlots()
	for _, name := range s.all() {
		if err := createSlot(ctx, b.db, name); err != nil {
			return s, err
		}
	}
	progress("writing the backlog: %d rows, %d per transaction, %d table(s)", b.o.rows, b.o.txSize, b.o.tables)
	bl, err := writeBacklog(ctx, b.db, b.o.rows, b.o.txSize, b.o.tables)
	b.backlog, b.rep.Backlog = bl, bl
	if err != nil {
		return s, err
	}
	progress("backlog written in %.1fs: %.1f MB of WAL, end LSN %s", bl.WriteSeconds, float64(bl.WALBytes)/1e6, bl.EndLSN)
	return s, nil
}

// checkFormats drops formats the walrelay build refuses, with a note.
func (b *bench) checkFormats(ctx context.Context) error {
	var ok []string
	for _, f := range b.formats {
		if supported, why := b.formatSupported(ctx, f); supported {
			ok = append(ok, f)
		} else {
			b.rep.note(fmt.Sprintf("format %s skipped: this walrelay build refuses it (%s)", f, why))
		}
	}
	if len(ok) == 0 {
		ok = []string{"json"}
		b.rep.note("falling back to format json")
	}
	b.formats = ok
	return nil
}

// anyFailed reports whether a pass failed outright (partial passes, cut
// short by a timeout, are results, not failures).
func anyFailed(r *Report) bool {
	for _, group := range [][]RunResult{r.Limit, r.LimitBinary, r.Walrelay, r.Debezium} {
		for _, x := range group {
			if x.Error != "" && !x.Partial {
				return true
			}
		}
	}
	for _, l := range r.Latency {
		if l.Samples == 0 {
			return true
		}
	}
	return false
}
