package config

import "time"

// Default placeholder for unchanged TOAST values that Postgres did not send.
const DefaultToastPlaceholder = "__debezium_unavailable_value"

// applyDefaults fills every zero field with its documented default.
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
	setDur(&c.Postgres.StatusInterval, time.Second)
	setDur(&c.Postgres.ReceiveTimeout, time.Minute)
	k := &c.Kafka
	setInt(&k.TopicPartitions, 3)
	setInt(&k.TopicReplicationFactor, 1)
	setInt(&k.BatchMaxRecords, 2000)
	setInt(&k.BatchMaxBytes, 1<<20)
	setDur(&k.Linger, 5*time.Millisecond)
	setStr(&k.Compression, "none")
	setInt(&k.MaxAttempts, 10)
	setDur(&k.BackoffMin, 100*time.Millisecond)
	setDur(&k.BackoffMax, 5*time.Second)
	setDur(&k.MetadataMaxAge, 5*time.Minute)
	setStr(&k.OnFailure, "halt")
	setStr(&k.DeadLetterTopic, c.TopicPrefix+".dlq")
	setStr(&c.Checkpoint.Store, "file")
	setDur(&c.Checkpoint.Interval, 200*time.Millisecond)
	setInt(&c.Limits.MaxInflightEvents, 100000)
	if c.Limits.MaxInflightBytes == 0 {
		c.Limits.MaxInflightBytes = 64 << 20
	}
	setStr(&c.SchemaRegistry.Listen, "127.0.0.1:8081")
	setStr(&c.SchemaRegistry.Compatibility, "BACKWARD")
	setDur(&c.SchemaRegistry.Timeout, 10*time.Second)
	setDur(&c.Publication.PollInterval, 30*time.Second)
	setStr(&c.Log.Level, "info")
	setStr(&c.Log.Format, "json")
	c.snapshotDefaults()
}

func setStr(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

func setDur(p *time.Duration, v time.Duration) {
	if *p == 0 {
		*p = v
	}
}
