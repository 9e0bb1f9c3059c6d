package sink

import (
	"strings"
	"testing"
	"time"
)

func TestValidateFillsDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Brokers: []string{"127.0.0.1:9092"}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := Config{
		Brokers: []string{"127.0.0.1:9092"}, ClientID: "walrelay", TopicPartitions: 3, TopicReplicationFactor: 1,
		BatchMaxRecords: 2000, BatchMaxBytes: 1 << 20, Linger: 5 * time.Millisecond, Compression: "none",
		MaxAttempts: 10, BackoffMin: 100 * time.Millisecond, BackoffMax: 5 * time.Second, OnFailure: "halt",
		RequestTimeout: 30 * time.Second, MetadataMaxAge: 5 * time.Minute,
	}
	if c.ClientID != want.ClientID || c.TopicPartitions != want.TopicPartitions ||
		c.TopicReplicationFactor != want.TopicReplicationFactor || c.BatchMaxRecords != want.BatchMaxRecords ||
		c.BatchMaxBytes != want.BatchMaxBytes || c.Linger != want.Linger || c.Compression != want.Compression ||
		c.MaxAttempts != want.MaxAttempts || c.BackoffMin != want.BackoffMin || c.BackoffMax != want.BackoffMax ||
		c.OnFailure != want.OnFailure || c.RequestTimeout != want.RequestTimeout || c.MetadataMaxAge != want.MetadataMaxAge {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestValidateKeepsSetValues(t *testing.T) {
	t.Parallel()
	c := Config{Brokers: []string{"a:1", "b:2"}, Compression: "ZSTD", OnFailure: "dead_letter", DeadLetterTopic: "app.dlq",
		Linger: time.Millisecond, BackoffMin: time.Second, BackoffMax: time.Second, MetadataMaxAge: time.Second}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.Compression != "zstd" || c.Linger != time.Millisecond || c.BackoffMin != time.Second || c.DeadLetterTopic != "app.dlq" ||
		c.MetadataMaxAge != time.Second {
		t.Errorf("set values changed: %+v", c)
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	ok := func() Config { return Config{Brokers: []string{"127.0.0.1:9092"}} }
	cases := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, "kafka.brokers"},
		{"broker without port", func(c *Config) { c.Brokers = []string{"localhost"} }, `broker "localhost" is not host:port`},
		{"negative partitions", func(c *Config) { c.TopicPartitions = -1 }, "kafka.topic_partitions"},
		{"negative batch records", func(c *Config) { c.BatchMaxRecords = -5 }, "kafka.batch_max_records"},
		{"negative batch bytes", func(c *Config) { c.BatchMaxBytes = -5 }, "kafka.batch_max_bytes"},
		{"negative linger", func(c *Config) { c.Linger = -time.Second }, "kafka.linger"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "kafka.max_attempts"},
		{"negative timeout", func(c *Config) { c.RequestTimeout = -1 }, "kafka.request_timeout"},
		{"negative metadata max age", func(c *Config) { c.MetadataMaxAge = -time.Minute }, "kafka.metadata_max_age"},
		{"huge replication", func(c *Config) { c.TopicReplicationFactor = 40000 }, "too large"},
		{"backoff min > max", func(c *Config) { c.BackoffMin, c.BackoffMax = 10*time.Second, time.Second }, "backoff_min 10s is greater than backoff_max 1s"},
		{"default max below min", func(c *Config) { c.BackoffMin = 10 * time.Second }, "greater than backoff_max"},
		{"compression", func(c *Config) { c.Compression = "brotli" }, `unknown compression "brotli"`},
		{"on_failure", func(c *Config) { c.OnFailure = "ignore" }, `unknown on_failure "ignore"`},
		{"dead letter without topic", func(c *Config) { c.OnFailure = OnFailureDeadLetter }, "no dead_letter_topic"},
		{"bad dead letter topic", func(c *Config) { c.OnFailure, c.DeadLetterTopic = OnFailureDeadLetter, "dlq topic" }, "contains ' '"},
		{"long dead letter topic", func(c *Config) { c.DeadLetterTopic = strings.Repeat("x", 250) }, "longer than 249"},
		{"dot topic", func(c *Config) { c.DeadLetterTopic = ".." }, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok()
			tc.modify(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "kafka: ") {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	t.Parallel()
	c := Config{Compression: "brotli", OnFailure: "ignore"}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted an empty config")
	}
	for _, want := range []string{"kafka.brokers", "kafka.compression", "kafka.on_failure"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
