package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/internal/pgdsn"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/schema"
)

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// urlScheme matches a URL's scheme (RFC 3986) at the start of a DSN.
var urlScheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// Validate checks the whole config (after defaults) and returns the first
// problem found as an *Error naming the key, its line and the fix. It
// rewrites each name of postgres.tables in pgident.Format's spelling
// ("Sales"."Orders" becomes Sales.Orders), the one the rest of walrelay
// compares names in.
func (c *Config) Validate() error {
	checks := []func() *Error{c.checkPostgres, c.checkKafka, c.checkKafkaSecurity, c.checkRest, c.checkValueModes,
		c.checkSchemaRegistry, c.checkFilter, c.checkSnapshot}
	for _, check := range checks {
		if err := check(); err != nil {
			c.locate(err)
			return err
		}
	}
	return nil
}

// locate fills err's File and Line (the line of its key, if the file sets
// it) and, when a variable set the key, Env. A key "missing" because its
// variable is set but empty then reads "set but empty", and its fix says to
// give the variable a value or unset it: the original fix would tell the
// operator to set the variable that is set.
func (c *Config) locate(err *Error) {
	err.File = c.File
	err.Line = c.lines[err.Key]
	v, ok := c.env[err.Key]
	if !ok {
		return
	}
	err.Env = v.name
	if rest, missing := strings.CutPrefix(err.Msg, "missing"); v.value == "" && missing {
		err.Msg = "set but empty" + rest
		err.Fix = c.emptyEnvFix(err.Key)
	}
}

// emptyEnvExamples are values for the variables whose emptiness makes a
// required key missing, in the variables' syntax.
var emptyEnvExamples = map[string]string{
	"kafka.brokers": "127.0.0.1:9092, or a comma-separated list",
	"postgres.dsn":  "postgres://walrelay@127.0.0.1:5432/app",
}

// emptyEnvFix is the fix for key's variable, set but empty: give it a
// value, or unset it so the file's value applies (or, when the file does
// not set key either, set it there).
func (c *Config) emptyEnvFix(key string) string {
	fix := "give it a value"
	if ex := emptyEnvExamples[key]; ex != "" {
		fix += ", e.g. " + ex
	}
	switch {
	case c.lines[key] > 0:
		return fix + "; or unset it to use the file's " + key
	case c.File != "":
		return fix + "; or unset it and set " + key + " in the file"
	}
	return fix
}

// isSet reports whether the file or a variable sets key: an explicit
// value, 0 included, as opposed to one left out (or written without a
// value, `linger:`, or by a variable set to ""), which takes the default.
// A variable overrides the file, its "" included.
func (c *Config) isSet(key string) bool {
	if v, env := c.env[key]; env {
		return v.value != ""
	}
	return c.lines[key] > 0 && !c.nulls[key]
}

func (c *Config) checkPostgres() *Error {
	p := c.Postgres
	if p.DSN == "" {
		return &Error{Key: "postgres.dsn", Msg: "missing",
			Fix: "set postgres.dsn or WALRELAY_POSTGRES_DSN, e.g. postgres://walrelay@127.0.0.1:5432/app"}
	}
	if m := urlScheme.FindStringSubmatch(p.DSN); m != nil && m[1] != "postgres" && m[1] != "postgresql" {
		return &Error{Key: "postgres.dsn", Msg: fmt.Sprintf("a %s:// URL is not a PostgreSQL connection string", m[1]),
			Fix: "use postgres://user:password@host:port/db?sslmode=... or key=value form"}
	}
	if err := pgdsn.CheckURL(p.DSN); err != nil {
		return &Error{Key: "postgres.dsn", Msg: "not a valid connection string: " + pgdsn.Redact(p.DSN),
			Fix: err.Error()}
	}
	if _, err := pgconn.ParseConfig(p.DSN); err != nil {
		return &Error{Key: "postgres.dsn", Msg: "not a valid connection string: " + pgdsn.ErrorText(err, p.DSN),
			Fix: "use postgres://user:password@host:port/db?sslmode=... or key=value form"}
	}
	if !identRe.MatchString(p.Slot) {
		return &Error{Key: "postgres.slot", Msg: fmt.Sprintf("%q is not a valid slot name", p.Slot),
			Fix: "use lower-case letters, digits and underscores, at most 63 characters"}
	}
	if !identRe.MatchString(p.Publication) {
		return &Error{Key: "postgres.publication", Msg: fmt.Sprintf("%q is not a valid publication name", p.Publication),
			Fix: "use lower-case letters, digits and underscores, at most 63 characters"}
	}
	for i, t := range p.Tables {
		name, err := pgident.Normalize(t)
		if err != nil {
			return &Error{Key: "postgres.tables", Msg: withoutQuoteHint(err.Error()),
				Fix: `name each table with its schema, e.g. public.orders; double-quote a part with a dot, e.g. "my.schema".orders`}
		}
		c.Postgres.Tables[i] = name // one spelling per table: compared with the names walrelay prints
	}
	if p.StatusInterval <= 0 {
		return &Error{Key: "postgres.status_interval", Msg: "must be positive", Fix: "e.g. 1s"}
	}
	if p.ReceiveTimeout <= 0 {
		return &Error{Key: "postgres.receive_timeout", Msg: "must be positive", Fix: "e.g. 60s (the default)"}
	}
	if p.ReceiveTimeout < 2*p.StatusInterval {
		return c.receiveTimeoutError()
	}
	return nil
}

// receiveTimeoutError reports postgres.receive_timeout below twice
// postgres.status_interval, naming status_interval when only it was set.
func (c *Config) receiveTimeoutError() *Error {
	p := c.Postgres
	if c.isSet("postgres.status_interval") && !c.isSet("postgres.receive_timeout") {
		return &Error{Key: "postgres.status_interval", Msg: fmt.Sprintf("%s is more than half of postgres.receive_timeout (%s)",
			p.StatusInterval, p.ReceiveTimeout), Fix: fmt.Sprintf("e.g. 1s, at most %s, or raise postgres.receive_timeout", p.ReceiveTimeout/2)}
	}
	return &Error{Key: "postgres.receive_timeout", Msg: fmt.Sprintf("%s is less than twice postgres.status_interval (%s)",
		p.ReceiveTimeout, p.StatusInterval), Fix: fmt.Sprintf("e.g. 60s, or at least %s", 2*p.StatusInterval)}
}

func (c *Config) checkKafka() *Error {
	k := c.Kafka
	if len(k.Brokers) == 0 {
		return &Error{Key: "kafka.brokers", Msg: "missing",
			Fix: "list at least one broker, e.g. [127.0.0.1:9092], or set WALRELAY_KAFKA_BROKERS"}
	}
	for _, b := range k.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return &Error{Key: "kafka.brokers", Msg: fmt.Sprintf("%q is not host:port", b), Fix: "e.g. 127.0.0.1:9092"}
		}
	}
	return c.checkProducer()
}

// checkProducer checks the producer's settings in kafka.*; each error names
// the key whose value is wrong.
func (c *Config) checkProducer() *Error {
	k := c.Kafka
	switch {
	case !oneOf(k.OnFailure, "halt", "dead_letter"):
		return &Error{Key: "kafka.on_failure", Msg: fmt.Sprintf("unknown value %q", k.OnFailure), Fix: "use halt or dead_letter"}
	case !oneOf(k.Compression, "none", "gzip", "snappy", "lz4", "zstd"):
		return &Error{Key: "kafka.compression", Msg: fmt.Sprintf("unknown value %q", k.Compression),
			Fix: "use none, gzip, snappy, lz4 or zstd"}
	case k.TopicPartitions < 1:
		return &Error{Key: "kafka.topic_partitions", Msg: fmt.Sprintf("%d is less than 1", k.TopicPartitions),
			Fix: "use at least 1 partition per topic walrelay creates; the default is 3"}
	case k.TopicReplicationFactor < 1 || k.TopicReplicationFactor > 32767:
		return &Error{Key: "kafka.topic_replication_factor", Msg: fmt.Sprintf("%d is out of range", k.TopicReplicationFactor),
			Fix: "use 1 to the number of brokers, e.g. 3 on a production cluster; the default is 1"}
	case k.BatchMaxRecords < 1:
		return &Error{Key: "kafka.batch_max_records", Msg: fmt.Sprintf("%d is less than 1", k.BatchMaxRecords),
			Fix: "use at least 1 record; the default is 2000"}
	case k.BatchMaxBytes < 1024:
		return &Error{Key: "kafka.batch_max_bytes", Msg: fmt.Sprintf("%d bytes is too small", k.BatchMaxBytes),
			Fix: "use at least 1024 bytes; the default is 1048576"}
	case k.Linger < 0:
		return &Error{Key: "kafka.linger", Msg: fmt.Sprintf("%s is negative", k.Linger),
			Fix: "use 0s for no lingering, or a duration such as 5ms (the default)"}
	case k.MaxAttempts < 1:
		return &Error{Key: "kafka.max_attempts", Msg: fmt.Sprintf("%d is less than 1", k.MaxAttempts),
			Fix: "use at least 1 attempt per batch, the first included; the default is 10"}
	case k.MaxInFlightRequests < 1:
		return &Error{Key: "kafka.max_in_flight_requests", Msg: fmt.Sprintf("%d is less than 1", k.MaxInFlightRequests),
			Fix: "use at least 1 request in flight; the default is 32"}
	case k.BackoffMin <= 0:
		return &Error{Key: "kafka.backoff_min", Msg: "must be positive", Fix: "e.g. 100ms"}
	case k.BackoffMax < k.BackoffMin:
		return c.backoffError()
	case k.MetadataMaxAge <= 0:
		return &Error{Key: "kafka.metadata_max_age", Msg: "must be positive",
			Fix: "how often partition counts are re-read, e.g. 5m; leave it out for the default 5m"}
	case k.Idempotence != nil && *k.Idempotence && k.Compression != "none":
		return &Error{Key: "kafka.idempotence", Msg: fmt.Sprintf("idempotent writes need kafka.compression: none, not %s", k.Compression),
			Fix: "set kafka.compression: none, or leave kafka.idempotence out (then compressed batches go without it)"}
	}
	return nil
}

// backoffError reports kafka.backoff_max below kafka.backoff_min, naming
// backoff_min when only it was set.
func (c *Config) backoffError() *Error {
	k := c.Kafka
	if c.isSet("kafka.backoff_min") && !c.isSet("kafka.backoff_max") {
		return &Error{Key: "kafka.backoff_min", Msg: fmt.Sprintf("%s is more than kafka.backoff_max (%s)", k.BackoffMin, k.BackoffMax),
			Fix: "lower it, or raise kafka.backoff_max"}
	}
	return &Error{Key: "kafka.backoff_max", Msg: fmt.Sprintf("%s is less than kafka.backoff_min (%s)", k.BackoffMax, k.BackoffMin),
		Fix: "raise it, or lower kafka.backoff_min"}
}

func (c *Config) checkRest() *Error {
	switch {
	case c.Format != "avro" && c.Format != "json":
		return &Error{Key: "format", Msg: fmt.Sprintf("unknown format %q", c.Format), Fix: "use avro or json"}
	case !oneOf(c.Checkpoint.Store, "file", "postgres"):
		return &Error{Key: "checkpoint.store", Msg: fmt.Sprintf("unknown store %q", c.Checkpoint.Store), Fix: "use file or postgres"}
	case c.Postgres.Standby && c.Checkpoint.Store != "postgres":
		return &Error{Key: "postgres.standby", Msg: "a standby needs the checkpoint that the active walrelay saves",
			Fix: "set checkpoint.store: postgres in both walrelays' configs"}
	case c.Checkpoint.Interval <= 0:
		return &Error{Key: "checkpoint.interval", Msg: "must be positive", Fix: "e.g. 200ms"}
	case c.Checkpoint.Retain < 0:
		return &Error{Key: "checkpoint.retain", Msg: fmt.Sprintf("%s is negative", c.Checkpoint.Retain),
			Fix: "use 0s (the default) for no replay window, or a duration such as 1h"}
	case c.Heartbeat.Interval < 0:
		return &Error{Key: "heartbeat.interval", Msg: fmt.Sprintf("%s is negative", c.Heartbeat.Interval),
			Fix: "use 0s (the default) for no heartbeats, or a duration such as 10s"}
	case c.Limits.MaxInflightEvents < 1:
		return &Error{Key: "limits.max_inflight_events", Msg: fmt.Sprintf("%d is less than 1", c.Limits.MaxInflightEvents),
			Fix: "use at least 1 event; the default is 100000"}
	case c.Limits.MaxInflightBytes < 1<<16:
		return &Error{Key: "limits.max_inflight_bytes", Msg: fmt.Sprintf("%d bytes is too small", c.Limits.MaxInflightBytes),
			Fix: "use at least 65536 bytes; the default is 67108864, 64 MiB"}
	case !ValidLogLevel(c.Log.Level):
		return &Error{Key: "log.level", Msg: fmt.Sprintf("unknown level %q", c.Log.Level), Fix: "use debug, info, warn or error"}
	case !ValidLogFormat(c.Log.Format):
		return &Error{Key: "log.format", Msg: fmt.Sprintf("unknown format %q", c.Log.Format), Fix: "use json or console"}
	case c.Metrics.Listen != "" && !validListen(c.Metrics.Listen):
		return &Error{Key: "metrics.listen", Msg: fmt.Sprintf("%q is not host:port", c.Metrics.Listen),
			Fix: "e.g. 127.0.0.1:9187 or :9187 for every interface; leave it empty for no metrics server"}
	}
	if err := c.checkTopicPrefix(); err != nil {
		return err
	}
	return c.checkDeadLetterTopic()
}

// checkTopicPrefix applies Kafka's topic-name rules to topic_prefix, which
// starts every topic walrelay names (the dead-letter topic's default too,
// so an illegal prefix is reported here rather than under a key the user
// never set).
func (c *Config) checkTopicPrefix() *Error {
	p := c.TopicPrefix
	if r, ok := badTopicRune(p); ok {
		return &Error{Key: "topic_prefix", Msg: fmt.Sprintf("%q is not a valid topic prefix: Kafka topic names cannot contain %q", p, r),
			Fix: "use only letters, digits, '.', '_' and '-' (ASCII)"}
	}
	switch {
	case p == "":
		return &Error{Key: "topic_prefix", Msg: `"" is not a valid topic prefix`,
			Fix: "set it to the name consumers know this database by, e.g. app; use letters, digits, '.', '_' and '-'"}
	case len(p) > 200:
		return &Error{Key: "topic_prefix", Msg: fmt.Sprintf("%d characters is too long a topic prefix: Kafka topic names are at most 249", len(p)),
			Fix: "use at most 200 characters, leaving room for .<schema>.<table>"}
	}
	return nil
}

// checkValueModes checks Debezium's decimal, binary and interval handling
// modes and its time precision mode.
func (c *Config) checkValueModes() *Error {
	if _, err := schema.ParseDecimalMode(c.DecimalHandlingMode); err != nil {
		return &Error{Key: "decimal_handling_mode", Msg: err.Error(),
			Fix: "use " + strings.Join(schema.DecimalModeNames(), ", ") + " (Debezium's decimal.handling.mode)"}
	}
	if _, err := schema.ParseBinaryMode(c.BinaryHandlingMode); err != nil {
		return &Error{Key: "binary_handling_mode", Msg: err.Error(),
			Fix: "use " + strings.Join(schema.BinaryModeNames(), ", ") + " (Debezium's binary.handling.mode)"}
	}
	if _, err := schema.ParseTimePrecisionMode(c.TimePrecisionMode); err != nil {
		return &Error{Key: "time_precision_mode", Msg: err.Error(),
			Fix: "use " + strings.Join(schema.TimePrecisionModeNames(), ", ") + " (Debezium's time.precision.mode)"}
	}
	if _, err := schema.ParseIntervalMode(c.IntervalHandlingMode); err != nil {
		return &Error{Key: "interval_handling_mode", Msg: err.Error(),
			Fix: "use " + strings.Join(schema.IntervalModeNames(), ", ") + " (Debezium's interval.handling.mode)"}
	}
	return nil
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// validListen reports whether listen is host:port with a port (the host may
// be empty: every interface).
func validListen(listen string) bool {
	_, port, err := net.SplitHostPort(listen)
	return err == nil && port != ""
}

// ValidLogLevel reports whether level is a log.level walrelay takes: debug,
// info, warn or error (also for `walrelay run --log-level`).
func ValidLogLevel(level string) bool { return oneOf(level, "debug", "info", "warn", "error") }

// ValidLogFormat reports whether format is a log.format walrelay takes: json
// or console (also for `walrelay run --log-format`).
func ValidLogFormat(format string) bool { return oneOf(format, "json", "console") }
