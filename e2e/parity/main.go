// Command parity runs walrelay and Debezium Server 3.6.1 on the same
// PostgreSQL changes and reports, value by value, where their Kafka output
// differs: keys, ops, every column of before and after, the source and
// transaction blocks, tombstones, truncate and message events, transaction
// BEGIN/END records and headers. With --avro it repeats each pass in Avro,
// comparing the schemas both register and the decoded records.
//
//	eval "$(bash .ci/services.sh start)"
//	go run ./e2e/parity [--modes default,string,snapshot] [--avro] [--json-out parity.json]
//
// The snapshot pass compares initial snapshots (read events) instead of a
// streamed workload: see snapshot.go.
//
// It needs WALRELAY_TEST_PG_DSN (a superuser DSN, wal_level=logical) and
// WALRELAY_TEST_KAFKA_BROKERS (and WALRELAY_TEST_REGISTRY_URL for --avro).
// Each pass creates a fresh database parity_<pass>_<time> with its own
// slots, topic prefixes wr<run>_<pass> and dbz<run>_<pass>. The exit status
// is 0 whatever the differences (it is a report), 1 when a pass could not
// be set up.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	jsonOut  string
	dump     string
	modes    []string
	avro     bool
	work     string
	dbzDir   string
	java     string
	timeout  time.Duration
	settle   time.Duration
	pgDSN    string
	brokers  []string
	registry string
}

func main() {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parity:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if rep != nil {
		printTable(os.Stdout, rep)
		if o.jsonOut != "" {
			if werr := writeJSON(o.jsonOut, rep); werr != nil {
				fmt.Fprintln(os.Stderr, "parity:", werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parity:", err)
		os.Exit(1)
	}
}

// parseFlags reads the flags and the services' environment variables.
func parseFlags() (options, error) {
	var o options
	var modes string
	flag.StringVar(&o.jsonOut, "json-out", "", "also write the differences as JSON to this file")
	flag.StringVar(&o.dump, "dump", "", "also append every record of both connectors to this file (JSON lines)")
	flag.StringVar(&modes, "modes", "default", "comma-separated value-mode passes: default (Debezium's defaults), "+
		"string (decimal string, binary hex, interval string, time connect), "+
		"snapshot (default modes; both connectors take an initial snapshot of filled tables, read events compared)")
	flag.BoolVar(&o.avro, "avro", false, "repeat the passes in Avro: the schemas both connectors register and the decoded records (needs WALRELAY_TEST_REGISTRY_URL)")
	flag.StringVar(&o.work, "work", "", "work directory for binaries, configs and logs (default: a new temporary one)")
	flag.StringVar(&o.dbzDir, "debezium-dir", filepath.Join(cacheDir(), "debezium-3.6.1.Final", "debezium-server"),
		"unpacked Debezium Server 3.6.1 distribution (go run ./e2e/bench --with-debezium fetches it there)")
	flag.StringVar(&o.java, "java", defaultJava(), "java binary (21 or newer) for Debezium Server")
	flag.DurationVar(&o.timeout, "timeout", 4*time.Minute, "how long to wait for both connectors to publish the workload, per pass")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "how long to read on after both published the end marker")
	flag.Parse()
	for _, m := range strings.Split(modes, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if _, ok := modeSets[m]; !ok && m != "snapshot" {
			return o, fmt.Errorf("--modes: unknown pass %q (default, string, snapshot)", m)
		}
		o.modes = append(o.modes, m)
	}
	o.pgDSN = os.Getenv("WALRELAY_TEST_PG_DSN")
	if b := os.Getenv("WALRELAY_TEST_KAFKA_BROKERS"); b != "" {
		o.brokers = strings.Split(b, ",")
	}
	o.registry = os.Getenv("WALRELAY_TEST_REGISTRY_URL")
	if o.pgDSN == "" || len(o.brokers) == 0 {
		return o, fmt.Errorf("WALRELAY_TEST_PG_DSN and WALRELAY_TEST_KAFKA_BROKERS must be set: " +
			`run eval "$(bash .ci/services.sh start)" first`)
	}
	if o.avro && o.registry == "" {
		return o, fmt.Errorf("--avro needs WALRELAY_TEST_REGISTRY_URL: run eval \"$(bash .ci/services.sh start)\" first")
	}
	return o, nil
}

// pass is one run of both connectors over the workload in a fresh database.
type pass struct {
	tag         string // "default", "string", "snapshot", "avro", "avro_string", "avro_snapshot"
	format      string // json | avro
	modes       modeSet
	snapshot    bool // initial snapshot of filled tables instead of stream only
	postgis     bool // the server has PostGIS: PostGIS columns and toasty_geo
	runID       string
	dir         string // configs, offsets, data dir and logs of this pass
	dsn         string // the pass's database
	registryURL string // avro: walrelay's (ccompat) URL; Debezium's is derived
}

func (p *pass) slotRelay() string   { return "parity_" + p.tag + "_wr" }
func (p *pass) slotDbz() string     { return "parity_" + p.tag + "_dbz" }
func (p *pass) relayPrefix() string { return "wr" + p.runID + "_" + p.tag }
func (p *pass) dbzPrefix() string   { return "dbz" + p.runID + "_" + p.tag }

// tables are the pass's captured tables, schema-qualified: the snapshot
// pass adds snapshotTables.
func (p *pass) tables() []string {
	out := append([]string{}, tables...)
	if p.snapshot {
		out = append(out, snapshotTables...)
	}
	if p.postgis {
		out = append(out, "public.toasty_geo")
	}
	return out
}

// run builds walrelay and runs every pass; a pass that fails is reported
// in the summary and makes run return an error after the others ran.
func run(ctx context.Context, o options) (*report, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	if o.work == "" {
		if o.work, err = os.MkdirTemp("", "walrelay-parity-"); err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
	}
	progress("work directory %s; building walrelay from %s", o.work, root)
	bin, err := buildRelay(ctx, root, o.work)
	if err != nil {
		return nil, err
	}
	rep := &report{Notes: notes()}
	runID := strconv.FormatInt(time.Now().Unix()%1_000_000, 36)
	var failed []string
	tags := append([]string{}, o.modes...)
	if o.avro {
		tags = append(tags, "avro")
		if slices.Contains(o.modes, "string") {
			tags = append(tags, "avro_string") // the modes' Avro schemas too
		}
		if slices.Contains(o.modes, "snapshot") {
			tags = append(tags, "avro_snapshot")
		}
	}
	for _, tag := range tags {
		p := &pass{tag: tag, format: "json", modes: modeSets[tag], runID: runID, dir: filepath.Join(o.work, tag)}
		switch tag {
		case "avro":
			p.format, p.modes, p.registryURL = "avro", modeSets["default"], o.registry
		case "avro_string":
			p.format, p.modes, p.registryURL = "avro", modeSets["string"], o.registry
		case "avro_snapshot":
			p.format, p.modes, p.registryURL, p.snapshot = "avro", modeSets["default"], o.registry, true
		case "snapshot":
			p.modes, p.snapshot = modeSets["default"], true
		}
		sum, rows, err := runPass(ctx, o, bin, p)
		if err != nil {
			sum.Error = err.Error()
			failed = append(failed, tag)
			progress("pass %s failed: %v", tag, err)
		}
		rep.Passes = append(rep.Passes, sum)
		rep.Rows = append(rep.Rows, rows...)
	}
	rep.ByField = countByField(rep.Rows)
	if len(failed) > 0 {
		return rep, fmt.Errorf("passes %v could not be run (see the summary)", failed)
	}
	return rep, nil
}

// moduleRoot finds the directory of walrelay's go.mod, from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/walrelay/walrelay\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the walrelay module: run from its checkout")
		}
		dir = parent
	}
}

// notes says what the comparison leaves out on purpose.
func notes() []string {
	return []string{
		"values not compared (only presence): top-level ts_ms/ts_us/ts_ns (processing time), source.version",
		"source.name is compared with each connector's own topic prefix replaced by <prefix>",
		"headers only one connector sets in a topic are listed once per topic with a count; headers both set are compared per record " +
			"(a value, or the header missing from one record of a pair)",
		"numbers compare by value and form: an integer (2) differs from a float (2.0), and -0.0 from 0.0",
		"records are paired per topic and key (semantic JSON) in offset order",
		"Avro passes: each record is decoded with the schema its wire-format ID names (walrelay's Confluent ID, " +
			"Debezium's Apicurio global ID) and compared as JSON; the schemas compared are each subject's latest; " +
			"partitions are not compared, since a key's bytes carry its registry's schema ID " +
			"(walrelay 4 bytes, Debezium's Apicurio converter an 8-byte global ID) and the partitioner hashes those bytes",
		"snapshot pass: tables filled before both connectors start; each creates its own slot and takes an initial snapshot " +
			"(walrelay snapshot.mode initial, default snapshot.parallelism 2; Debezium snapshot.mode initial), " +
			"then the end marker is streamed; read events (op r) pair by topic and key, so table order does not matter",
	}
}
