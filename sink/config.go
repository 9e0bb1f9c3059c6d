package sink

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// What the sink does with a batch it cannot write (Config.OnFailure).
const (
	// OnFailureHalt stops the partition that failed and reports the error on
	// Sink.Err; the pipeline restarts from its checkpoint.
	OnFailureHalt = "halt"
	// OnFailureDeadLetter writes records the broker rejects (too large,
	// invalid, not authorised, policy) to Config.DeadLetterTopic and acks them.
	OnFailureDeadLetter = "dead_letter"
)

// Defaults applied by Validate to zero-valued fields.
const (
	DefaultTopicPartitions        = 3
	DefaultTopicReplicationFactor = 1
	DefaultBatchMaxRecords        = 2000
	DefaultBatchMaxBytes          = 1 << 20
	DefaultLinger                 = 5 * time.Millisecond
	DefaultMaxAttempts            = 10
	DefaultBackoffMin             = 100 * time.Millisecond
	DefaultBackoffMax             = 5 * time.Second
	DefaultRequestTimeout         = 30 * time.Second
	DefaultMetadataMaxAge         = 5 * time.Minute
	DefaultMaxInFlightRequests    = 32
	DefaultClientID               = "walrelay"
)

// Config configures a Sink. A zero field takes the default named in its
// comment; negative numbers and contradictions are rejected by Validate.
type Config struct {
	// Brokers are the bootstrap brokers, "host:port" each. Required.
	Brokers []string
	// ClientID is sent to the brokers with every request. Default "walrelay".
	ClientID string
	// TopicPartitions is the partition count of topics the sink creates.
	// Default 3. Existing topics keep their own count.
	TopicPartitions int
	// TopicReplicationFactor is the replication factor of topics the sink
	// creates. Default 1.
	TopicReplicationFactor int
	// TopicConfig is the topic-level configuration (name -> value) of
	// topics the sink creates; nil: the broker's defaults.
	TopicConfig map[string]string
	// BatchMaxRecords caps the records in one produce request. Default 2000.
	BatchMaxRecords int
	// BatchMaxBytes caps the size (event.Record.Size) of one produce request.
	// Default 1 MiB. A single larger record is sent alone.
	BatchMaxBytes int
	// Linger is how long a partition writer waits after the first record of
	// a batch for more to arrive. Default 5ms; a lone record waits at most
	// this, and not at all once SendNow says nothing more is coming.
	Linger time.Duration
	// Compression is the codec of produced batches: none (default), gzip,
	// snappy, lz4 or zstd.
	Compression string
	// MaxAttempts is how often a batch is tried (first attempt included)
	// before the sink gives up on it. Default 10.
	MaxAttempts int
	// BackoffMin and BackoffMax bound the delay before a retry: exponential
	// from BackoffMin, capped at BackoffMax, with full jitter; retry n comes
	// no sooner than the bounds of the retries before it add up to after the
	// first attempt (retryDelay), so quick failures do not use MaxAttempts up
	// before a crashed leader is replaced. Defaults 100ms and 5s.
	BackoffMin, BackoffMax time.Duration
	// OnFailure is OnFailureHalt (default) or OnFailureDeadLetter.
	OnFailure string
	// DeadLetterTopic receives rejected records in dead_letter mode, where it
	// is required. Ignored in halt mode.
	DeadLetterTopic string
	// RequestTimeout bounds one request to a broker. Default 30s. It starts
	// once the request has one of the MaxInFlightRequests slots.
	RequestTimeout time.Duration
	// MaxInFlightRequests caps the requests the sink has in flight at once,
	// over all partitions and brokers, and so its broker connections (one
	// per request in flight). Default 32. A partition has at most one
	// request in flight; when more partitions have a batch ready than
	// there are slots, the others wait for a slot, in turn.
	MaxInFlightRequests int
	// ResumeProducer, if set, is the idempotent producer of the previous Sink
	// of this process (Sink.Producer): New continues it with the next epoch
	// instead of asking the cluster for a new id, which fences the previous
	// sink's requests still in flight. Ignored without idempotence.
	ResumeProducer *ProducerID
	// MetadataMaxAge is how often a goroutine of the sink re-reads the
	// partition counts of the topics it writes to. Default 5m, like the Java
	// producer's metadata.max.age.ms. When a topic has grown, the next Send
	// to it waits until every record sent to it before was acknowledged,
	// then spreads keys over the new count (see Send); a topic that shrank,
	// or cannot be described, keeps its count and is logged.
	MetadataMaxAge time.Duration
	// TLS is the client TLS configuration for every broker connection; nil
	// (default) is plaintext. ServerName defaults to each broker's host. With
	// InsecureSkipVerify set, New logs a warning.
	TLS *tls.Config
	// SASL authenticates every broker connection; the zero value (default)
	// is none.
	SASL SASL
	// Idempotence: IdempotenceAuto (default), IdempotenceOn or
	// IdempotenceOff; see producer. Idempotent batches need compression
	// none.
	Idempotence Idempotence
}

// Validate fills the defaults of zero fields and rejects invalid values and
// contradictions, naming the config key (kafka.<key>) and what to change. It
// returns all problems at once (errors.Join).
func (c *Config) Validate() error {
	c.fillDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("kafka: "+format, args...)) }

	if len(c.Brokers) == 0 {
		bad("no brokers configured: set kafka.brokers to a list of host:port")
	}
	for _, b := range c.Brokers {
		if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
			bad("broker %q is not host:port (kafka.brokers)", b)
		}
	}
	errs = append(errs, c.negatives()...)
	if c.TopicReplicationFactor > 32767 {
		bad("topic_replication_factor %d is too large (kafka.topic_replication_factor)", c.TopicReplicationFactor)
	}
	if c.BackoffMin > c.BackoffMax {
		bad("backoff_min %s is greater than backoff_max %s (kafka.backoff_min, kafka.backoff_max)", c.BackoffMin, c.BackoffMax)
	}
	if _, ok := compressions[c.Compression]; !ok {
		bad("unknown compression %q (kafka.compression): use none, gzip, snappy, lz4 or zstd", c.Compression)
	}
	switch c.OnFailure {
	case OnFailureHalt:
	case OnFailureDeadLetter:
		if c.DeadLetterTopic == "" {
			bad("on_failure is dead_letter but no dead_letter_topic is set (kafka.dead_letter_topic)")
		}
	default:
		bad("unknown on_failure %q (kafka.on_failure): use halt or dead_letter", c.OnFailure)
	}
	errs = append(errs, c.SASL.validate()...)
	if c.Idempotence == IdempotenceOn && c.Compression != "none" {
		bad("idempotence needs compression none, not %s (kafka.idempotence, kafka.compression)", c.Compression)
	}
	if c.DeadLetterTopic != "" {
		if err := validTopicName(c.DeadLetterTopic); err != nil {
			bad("dead_letter_topic: %v (kafka.dead_letter_topic)", err)
		}
	}
	return errors.Join(errs...)
}

// negatives rejects negative numbers and durations.
func (c *Config) negatives() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"topic_partitions", int64(c.TopicPartitions)},
		{"topic_replication_factor", int64(c.TopicReplicationFactor)},
		{"batch_max_records", int64(c.BatchMaxRecords)},
		{"batch_max_bytes", int64(c.BatchMaxBytes)},
		{"max_attempts", int64(c.MaxAttempts)},
		{"linger", int64(c.Linger)},
		{"backoff_min", int64(c.BackoffMin)},
		{"backoff_max", int64(c.BackoffMax)},
		{"request_timeout", int64(c.RequestTimeout)},
		{"metadata_max_age", int64(c.MetadataMaxAge)},
		{"max_in_flight_requests", int64(c.MaxInFlightRequests)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("kafka: %s must not be negative (kafka.%s)", f.name, f.name))
		}
	}
	return errs
}

func (c *Config) fillDefaults() {
	setInt := func(p *int, def int) {
		if *p == 0 {
			*p = def
		}
	}
	setDur := func(p *time.Duration, def time.Duration) {
		if *p == 0 {
			*p = def
		}
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	setInt(&c.TopicPartitions, DefaultTopicPartitions)
	setInt(&c.TopicReplicationFactor, DefaultTopicReplicationFactor)
	setInt(&c.BatchMaxRecords, DefaultBatchMaxRecords)
	setInt(&c.BatchMaxBytes, DefaultBatchMaxBytes)
	setInt(&c.MaxAttempts, DefaultMaxAttempts)
	setDur(&c.Linger, DefaultLinger)
	setDur(&c.BackoffMin, DefaultBackoffMin)
	setDur(&c.BackoffMax, DefaultBackoffMax)
	setDur(&c.RequestTimeout, DefaultRequestTimeout)
	setDur(&c.MetadataMaxAge, DefaultMetadataMaxAge)
	setInt(&c.MaxInFlightRequests, DefaultMaxInFlightRequests)
	c.Compression = strings.ToLower(c.Compression)
	if c.Compression == "" {
		c.Compression = "none"
	}
	if c.OnFailure == "" {
		c.OnFailure = OnFailureHalt
	}
	c.SASL.Mechanism = strings.ToLower(c.SASL.Mechanism)
}

var compressions = map[string]kafka.Compression{
	"none":   0,
	"gzip":   kafka.Gzip,
	"snappy": kafka.Snappy,
	"lz4":    kafka.Lz4,
	"zstd":   kafka.Zstd,
}

// validTopicName applies Kafka's rules for topic names.
func validTopicName(name string) error {
	if name == "." || name == ".." {
		return fmt.Errorf("topic name %q is not allowed", name)
	}
	if len(name) > 249 {
		return fmt.Errorf("topic name %q is longer than 249 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("topic name %q contains %q; use only letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}
