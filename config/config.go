// Package config loads walrelay's YAML configuration, applies environment
// overrides (WALRELAY_<SECTION>_<KEY>) and validates it in one place, so that
// every mistake is reported at start-up with the file, the key and a fix.
package config

import (
	"time"
)

// Config is the whole configuration file. Field docs give the defaults.
type Config struct {
	Postgres         Postgres       `yaml:"postgres"`
	Kafka            Kafka          `yaml:"kafka"`
	TopicPrefix      string         `yaml:"topic_prefix"`      // default "walrelay"
	Format           string         `yaml:"format"`            // avro (default, with a schema registry) | json
	DataDir          string         `yaml:"data_dir"`          // default ./walrelay-data
	Checkpoint       Checkpoint     `yaml:"checkpoint"`        //
	Limits           Limits         `yaml:"limits"`            //
	ToastPlaceholder string         `yaml:"toast_placeholder"` // default __debezium_unavailable_value
	Rules            string         `yaml:"rules"`             // filter rules file; "" = capture postgres.tables
	MaskSalt         string         `yaml:"mask_salt"`         // salt for columns.mask hashes; never logged
	Publication      Publication    `yaml:"publication"`       //
	SchemaRegistry   SchemaRegistry `yaml:"schema_registry"`   //
	Heartbeat        Heartbeat      `yaml:"heartbeat"`         //
	Snapshot         Snapshot       `yaml:"snapshot"`          //
	Log              Log            `yaml:"log"`               //
	Metrics          Metrics        `yaml:"metrics"`           //
	// TransactionMetadata publishes a BEGIN and an END record for each
	// streamed transaction with published events on <topic_prefix>.transaction, as
	// Debezium's provide.transaction.metadata. Default false.
	TransactionMetadata bool `yaml:"transaction_metadata"`
	// DecimalHandlingMode is Debezium's decimal.handling.mode for numeric
	// and money columns: precise (default), double or string.
	DecimalHandlingMode string `yaml:"decimal_handling_mode"`
	// BinaryHandlingMode is Debezium's binary.handling.mode for bytea
	// columns: bytes (default), base64, base64-url-safe or hex.
	BinaryHandlingMode string `yaml:"binary_handling_mode"`
	// TimePrecisionMode is Debezium's time.precision.mode for time,
	// timestamp and date columns: adaptive (default),
	// adaptive_time_microseconds or connect.
	TimePrecisionMode string `yaml:"time_precision_mode"`
	// IntervalHandlingMode is Debezium's interval.handling.mode for
	// interval columns: numeric (default, io.debezium.time.MicroDuration
	// µs) or string (io.debezium.time.Interval, "P1Y2M3DT4H5M6.78S").
	IntervalHandlingMode string `yaml:"interval_handling_mode"`

	// File is the path the config was loaded from ("" when built in code).
	File string `yaml:"-"`
	// lines maps dotted keys to their line in File, for error messages;
	// nulls holds the keys File writes without a value (not set).
	lines map[string]int
	nulls map[string]bool
	// env maps dotted keys to the environment variable that set them.
	env map[string]envValue
}

// Postgres is the source database and its replication objects.
type Postgres struct {
	DSN            string        `yaml:"dsn"`             // required
	Slot           string        `yaml:"slot"`            // default "walrelay"
	Publication    string        `yaml:"publication"`     // default "walrelay"
	Tables         []string      `yaml:"tables"`          // capture set; empty = all tables
	StatusInterval time.Duration `yaml:"status_interval"` // default 1s
	// ReceiveTimeout is how long the replication connection may stay
	// silent before walrelay gives it up and reconnects (as PostgreSQL's
	// wal_receiver_timeout); at half of it walrelay asks the server for a
	// reply. Default 60s.
	ReceiveTimeout time.Duration `yaml:"receive_timeout"`
	// Standby makes walrelay wait as long as another backend (another
	// walrelay) holds the slot, and take over when it is released: a
	// second walrelay with the same config runs as a hot standby. Needs
	// checkpoint.store: postgres (the checkpoint both share).
	Standby bool `yaml:"standby"`
}

// Kafka is the destination cluster and the producer's behaviour.
type Kafka struct {
	Brokers                []string `yaml:"brokers"`                  // required
	TopicPartitions        int      `yaml:"topic_partitions"`         // default 3
	TopicReplicationFactor int      `yaml:"topic_replication_factor"` // default 1
	// TopicConfig is the topic-level configuration of topics walrelay
	// creates, e.g. {cleanup.policy: compact} (Kafka Connect's
	// topic.creation.default.*). Default none: the broker's defaults.
	TopicConfig     map[string]string `yaml:"topic_config"`
	BatchMaxRecords int               `yaml:"batch_max_records"` // default 2000
	BatchMaxBytes   int               `yaml:"batch_max_bytes"`   // default 1 MiB
	Linger          time.Duration     `yaml:"linger"`            // default 5ms; 0s = no lingering (SinkLinger)
	Compression     string            `yaml:"compression"`       // default none
	MaxAttempts     int               `yaml:"max_attempts"`      // default 10
	BackoffMin      time.Duration     `yaml:"backoff_min"`       // default 100ms
	BackoffMax      time.Duration     `yaml:"backoff_max"`       // default 5s
	MetadataMaxAge  time.Duration     `yaml:"metadata_max_age"`  // default 5m: how often partition counts are re-read
	OnFailure       string            `yaml:"on_failure"`        // halt | dead_letter
	DeadLetterTopic string            `yaml:"dead_letter_topic"` // default <topic_prefix>.dlq
	Tombstones      *bool             `yaml:"tombstones"`        // default true
	Idempotence     *bool             `yaml:"idempotence"`       // default: when the cluster allows it
	TLS             KafkaTLS          `yaml:"tls"`               // default plaintext
	SASL            KafkaSASL         `yaml:"sasl"`              // default no authentication

	// MaxInFlightRequests caps the requests to the brokers in flight at
	// once, over all partitions, and so the connections per broker.
	MaxInFlightRequests int `yaml:"max_in_flight_requests"` // default 32
}

// Checkpoint selects where the watermark is stored and how often.
type Checkpoint struct {
	Store    string        `yaml:"store"`    // file | postgres; default file
	Interval time.Duration `yaml:"interval"` // default 200ms
	Retain   time.Duration `yaml:"retain"`   // replay window held behind the slot; 0 = none
}

// Limits caps what is in flight between Postgres and Kafka (invariant 5).
type Limits struct {
	MaxInflightEvents int   `yaml:"max_inflight_events"` // default 100000
	MaxInflightBytes  int64 `yaml:"max_inflight_bytes"`  // default 64 MiB
}

// Log sets the log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error; default info
	Format string `yaml:"format"` // json | console; default json
}

// TombstonesEnabled reports whether deletes are followed by a tombstone.
func (k Kafka) TombstonesEnabled() bool { return k.Tombstones == nil || *k.Tombstones }

// SinkLinger is Linger as sink.Config takes it. The sink reads 0 as "the
// default", so no lingering (kafka.linger: 0s, as Kafka's linger.ms=0)
// becomes 1ns: a batch then holds what was queued when its first record
// was taken, and goes at once.
func (k Kafka) SinkLinger() time.Duration {
	if k.Linger == 0 {
		return time.Nanosecond
	}
	return k.Linger
}
