package config

import "time"

// Default placeholder for unchanged TOAST values that Postgres did not send.
const DefaultToastPlaceholder = "__debezium_unavailable_value"

// applyDefaults fills every field the file and the environment leave out
// with its documented default. A number or duration that is set keeps its
// value, 0 included: Validate refuses it where 0 is out of range, and
// kafka.linger: 0s means no lingering (isSet).
func (c *Config) applyDefaults() {
	setStr(&c.TopicPrefix, "walrelay")
	setStr(&c.Format, "avro")
	setStr(&c.DataDir, "./walrelay-data")
	setStr(&c.ToastPlaceholder, DefaultToastPlaceholder)
	setStr(&c.DecimalHandlingMode, "precise")
	setStr(&c.BinaryHandlingMode, "bytes")
	setStr(&c.TimePrecisionMode, "adaptive")
	setStr(&c.IntervalHandlingMode, "numeric")
	setStr(&c.Postgres.Slot, "walrelay")
	setStr(&c.Postgres.Publication, "walrelay")
	setNum(c, "postgres.status_interval", &c.Postgres.StatusInterval, time.Second)
	setNum(c, "postgres.receive_timeout", &c.Postgres.ReceiveTimeout, time.Minute)
	k := &c.Kafka
	setNum(c, "kafka.topic_partitions", &k.TopicPartitions, 3)
	setNum(c, "kafka.topic_replication_factor", &k.TopicReplicationFactor, 1)
	setNum(c, "kafka.batch_max_records", &k.BatchMaxRecords, 2000)
	setNum(c, "kafka.batch_max_bytes", &k.BatchMaxBytes, 1<<20)
	setNum(c, "kafka.linger", &k.Linger, DefaultLinger)
	setStr(&k.Compression, "none")
	setNum(c, "kafka.max_attempts", &k.MaxAttempts, 10)
	setNum(c, "kafka.backoff_min", &k.BackoffMin, 100*time.Millisecond)
	setNum(c, "kafka.backoff_max", &k.BackoffMax, 5*time.Second)
	setNum(c, "kafka.metadata_max_age", &k.MetadataMaxAge, 5*time.Minute)
	setNum(c, "kafka.max_in_flight_requests", &k.MaxInFlightRequests, 32)
	setStr(&k.OnFailure, "halt")
	setStr(&k.DeadLetterTopic, c.TopicPrefix+".dlq")
	setStr(&c.Checkpoint.Store, "file")
	setNum(c, "checkpoint.interval", &c.Checkpoint.Interval, 200*time.Millisecond)
	setNum(c, "limits.max_inflight_events", &c.Limits.MaxInflightEvents, 100000)
	setNum(c, "limits.max_inflight_bytes", &c.Limits.MaxInflightBytes, 64<<20)
	setStr(&c.SchemaRegistry.Listen, "127.0.0.1:8081")
	setStr(&c.SchemaRegistry.Compatibility, "BACKWARD")
	setNum(c, "schema_registry.timeout", &c.SchemaRegistry.Timeout, 10*time.Second)
	setNum(c, "publication.poll_interval", &c.Publication.PollInterval, 30*time.Second)
	setStr(&c.Log.Level, "info")
	setStr(&c.Log.Format, "json")
	c.snapshotDefaults()
}

// DefaultLinger is kafka.linger's default.
const DefaultLinger = 5 * time.Millisecond

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

// setNum gives the number or duration at p, key's field, the default v
// unless the file or a variable sets key (to any value, 0 included).
func setNum[T ~int | ~int64](c *Config, key string, p *T, v T) {
	if *p == 0 && !c.isSet(key) {
		*p = v
	}
}
