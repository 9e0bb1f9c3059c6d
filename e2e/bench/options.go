package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// options are the bench's command-line flags. Each flag's help gives its
// default; validate rejects contradictions in one place.
type options struct {
	dsn        string        // "" = start a throwaway PostgreSQL (devenv)
	brokers    string        // "" = start a real Kafka with .ci/kafka.sh; "kfake" = in-process broker
	rows       int           // backlog rows
	txSize     int           // rows per backlog transaction
	tables     int           // tables the backlog is spread over
	format     string        // json | avro
	rate       int           // offered rows/s in the latency phase; 0 = half of walrelay's measured rate, capped
	rateCap    int           // cap on the default rate
	latencyDur time.Duration // how long the latency writer runs
	warmup     time.Duration // latency samples committed in the first warmup are dropped
	repeat     int           // runs of the cheap phases (pg_recvlogical, walrelay)
	debezium   bool          // run Debezium Server too
	dbzVersion string        // io.debezium:debezium-server-dist version
	dbzTimeout time.Duration // bound on Debezium's backlog phase
	dbzJavaOpt string        // JAVA_OPTS for Debezium Server
	dbzProps   propList      // extra application.properties entries
	relayEnv   propList      // extra environment of the walrelay processes
	phaseLimit time.Duration // bound on each walrelay / pg_recvlogical run; 0 = derived from rows
	jsonOut    string        // write the report as JSON here
	relayBin   string        // prebuilt walrelay; "" = go build from the module root
	compareBin string        // a second walrelay, measured in the same rounds ("walrelay-B")
	cpuProfile string        // pass --cpuprofile to the first walrelay backlog run
	keep       bool          // keep the work directory (logs, configs)
	skipLimit  bool          // skip the pg_recvlogical phase
	skipLat    bool          // skip the latency phase
	skipTarget bool          // skip the extra walrelay latency run at half the max rate
	skipLatRef bool          // skip the pgoutput client's latency reference
	latSeries  string        // write each latency phase's per-100ms series here (prefix)
	sweep      rateList      // extra walrelay latency runs at these rates
}

// parseOptions parses args (without the program name). Help goes to out.
func parseOptions(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, "Usage: go run ./e2e/bench [flags]\n\n"+
			"Measures walrelay against pg_recvlogical (the server's decoding limit) and, with\n"+
			"--with-debezium, Debezium Server, on one backlog in one PostgreSQL, into one broker.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dsn, "dsn", "", "superuser DSN of a PostgreSQL with wal_level=logical (default: start a throwaway cluster from the local binaries)")
	fs.StringVar(&o.brokers, "brokers", "", "Kafka bootstrap host:port list (default: start a real Kafka 4 broker with .ci/kafka.sh; \"kfake\" = in-process broker, quick and not comparable)")
	fs.IntVar(&o.rows, "rows", 1_000_000, "rows in the backlog")
	fs.IntVar(&o.txSize, "tx-size", 1000, "rows per backlog transaction")
	fs.IntVar(&o.tables, "tables", 1, "tables the backlog is spread over (round robin by transaction)")
	fs.StringVar(&o.format, "format", "json,avro", "walrelay's formats, measured in turn: json, avro or both; the first is used for the latency phase and the targets (json compares like with like against Debezium's JSON); a format the build refuses is skipped with a note")
	fs.IntVar(&o.rate, "rate", 0, "offered rows/s in the latency phase, for every latency run (default: half of walrelay's measured backlog rate, capped by --rate-cap; when the cap applies, walrelay runs a second time at exactly half, for the target)")
	fs.IntVar(&o.rateCap, "rate-cap", 0, "upper bound of the default latency rate (default 5000 rows/s per CPU: the writer, PostgreSQL, Kafka and the consumer share the machine)")
	fs.DurationVar(&o.latencyDur, "latency-duration", 0, "how long the latency writer runs (default 15s with fewer than 500000 rows, else 60s)")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "latency samples committed during the first warmup are not counted")
	fs.IntVar(&o.repeat, "repeat", 3, "runs of the pg_recvlogical and walrelay backlog phases (each on its own slot); the table shows the median and the spread")
	fs.BoolVar(&o.debezium, "with-debezium", false, "also run Debezium Server (downloaded from Maven Central into ~/.cache/walrelay)")
	fs.StringVar(&o.dbzVersion, "debezium-version", "3.6.1.Final", "io.debezium:debezium-server-dist version")
	fs.DurationVar(&o.dbzTimeout, "debezium-timeout", 15*time.Minute, "bound on Debezium's backlog phase; a run cut short is reported as partial")
	fs.StringVar(&o.dbzJavaOpt, "debezium-java-opts", "", "JAVA_OPTS for Debezium Server (default: none, the JVM's own defaults)")
	fs.Var(&o.relayEnv, "walrelay-env", "extra environment variable KEY=value of every walrelay process, e.g. WALRELAY_METRICS_LISTEN=127.0.0.1:0 to measure with metrics on (repeatable)")
	fs.Var(&o.dbzProps, "debezium-prop", "extra Debezium Server property key=value, e.g. debezium.source.max.batch.size=8192 (repeatable; wins over the bench's)")
	fs.DurationVar(&o.phaseLimit, "phase-timeout", 0, "bound on each pg_recvlogical / walrelay run (default: 2 min + 1 ms per row)")
	fs.StringVar(&o.jsonOut, "json-out", "", "also write the results as JSON to this file")
	fs.StringVar(&o.relayBin, "walrelay-bin", "", "use this walrelay binary instead of building one from the checkout")
	fs.StringVar(&o.compareBin, "compare-bin", "", "a second walrelay binary (or a wrapper script that execs one, e.g. to set GOGC), measured as \"walrelay-B\" in the same rounds as the first")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of walrelay's first backlog run here (needs walrelay run --cpuprofile)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, logs) and, with --dsn, the bench schema")
	fs.BoolVar(&o.skipLimit, "skip-limit", false, "skip the pg_recvlogical phase")
	fs.BoolVar(&o.skipLat, "skip-latency", false, "skip the latency phase")
	fs.BoolVar(&o.skipTarget, "skip-target-latency", false, "skip walrelay's second latency run at half its measured rate (made when --rate-cap cut the default rate); the latency target then gets no verdict")
	fs.BoolVar(&o.skipLatRef, "skip-latency-limit", false, "skip the delivery-latency reference: a minimal pgoutput client (no Kafka), alone at each of walrelay's latency rates")
	fs.Var(&o.sweep, "sweep", "extra latency runs of walrelay (and the pgoutput client) at these offered rows/s, comma-separated, after the planned ones, e.g. 60000,80000,100000,120000: the p99 as the load grows; they get no target verdict")
	fs.StringVar(&o.latSeries, "latency-series", "", "write each latency phase's series (per 100 ms of commit time: rows, p50, max latency) to PREFIX-<consumer>.tsv")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (all settings are flags; see -h)", fs.Arg(0))
	}
	o.applyDefaults()
	return o, o.validate()
}

// applyDefaults fills the values that depend on other flags.
func (o *options) applyDefaults() {
	if o.latencyDur == 0 {
		o.latencyDur = 15 * time.Second
		if o.rows >= 500_000 {
			o.latencyDur = 60 * time.Second
		}
	}
	if o.rateCap == 0 {
		o.rateCap = 5000 * runtime.NumCPU()
	}
	if o.phaseLimit == 0 {
		o.phaseLimit = 2*time.Minute + time.Duration(o.rows)*time.Millisecond
	}
}

// validate rejects impossible or contradictory settings.
func (o *options) validate() error {
	switch {
	case o.rows < 1:
		return errors.New("--rows must be at least 1")
	case o.txSize < 1:
		return errors.New("--tx-size must be at least 1")
	case o.tables < 1 || o.tables > 64:
		return errors.New("--tables must be between 1 and 64")
	case len(o.formats()) == 0:
		return fmt.Errorf("--format %q: use json, avro or json,avro", o.format)
	case o.rate < 0 || o.rateCap < 1:
		return errors.New("--rate must be >= 0 and --rate-cap >= 1")
	case o.repeat < 1 || o.repeat > 5:
		return errors.New("--repeat must be between 1 and 5 (each run holds a replication slot)")
	case o.warmup < 0 || o.warmup >= o.latencyDur:
		return fmt.Errorf("--warmup %s must be shorter than --latency-duration %s", o.warmup, o.latencyDur)
	}
	return nil
}

// formats returns the --format list (json, avro or both, comma-separated),
// nil when it holds anything else.
func (o *options) formats() []string {
	var out []string
	for _, f := range strings.Split(o.format, ",") {
		f = strings.TrimSpace(f)
		if f != "json" && f != "avro" {
			return nil
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// kfake reports whether the in-process broker was asked for.
func (o *options) kfake() bool { return o.brokers == "kfake" }

// rateList is a comma-separated list of positive rows/s.
type rateList []int

func (r *rateList) String() string {
	parts := make([]string, len(*r))
	for i, v := range *r {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

// Set parses "60000,80000"; each rate must be a positive integer.
func (r *rateList) Set(v string) error {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive rows/s", f)
		}
		out = append(out, n)
	}
	*r = out
	return nil
}

// propList is a repeatable key=value flag.
type propList []string

func (p *propList) String() string { return strings.Join(*p, " ") }

// Set adds one key=value.
func (p *propList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not key=value", v)
	}
	*p = append(*p, v)
	return nil
}
