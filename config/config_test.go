package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "walrelay.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimal = `postgres:
  dsn: postgres://u@127.0.0.1:5432/app
kafka:
  brokers: [127.0.0.1:9092]
`

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(writeConfig(t, minimal), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Postgres.Slot != "walrelay" || c.TopicPrefix != "walrelay" || c.Format != "avro" ||
		c.DecimalHandlingMode != "precise" || c.BinaryHandlingMode != "bytes" || c.TimePrecisionMode != "adaptive" ||
		c.IntervalHandlingMode != "numeric" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.Kafka.DeadLetterTopic != "walrelay.dlq" || !c.Kafka.TombstonesEnabled() || c.Kafka.Linger != 5*time.Millisecond ||
		c.Kafka.MetadataMaxAge != 5*time.Minute {
		t.Errorf("kafka defaults not applied: %+v", c.Kafka)
	}
	if c.Limits.MaxInflightEvents != 100000 || c.Checkpoint.Store != "file" {
		t.Errorf("limits/checkpoint defaults not applied: %+v %+v", c.Limits, c.Checkpoint)
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	env := []string{
		"WALRELAY_POSTGRES_DSN=postgres://other@db:5433/x",
		"WALRELAY_KAFKA_BROKERS=a:1, b:2",
		"WALRELAY_TOPIC_PREFIX=shop",
		"WALRELAY_KAFKA_TOMBSTONES=false",
		"WALRELAY_CHECKPOINT_INTERVAL=2s",
		"WALRELAY_KAFKA_METADATA_MAX_AGE=30s",
		"WALRELAY_LIMITS_MAX_INFLIGHT_BYTES=1048576",
		"PATH=/bin",
	}
	c, err := Load(writeConfig(t, minimal), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Postgres.DSN != "postgres://other@db:5433/x" || strings.Join(c.Kafka.Brokers, "|") != "a:1|b:2" {
		t.Errorf("env not applied: %q %q", c.Postgres.DSN, c.Kafka.Brokers)
	}
	if c.TopicPrefix != "shop" || c.Kafka.TombstonesEnabled() || c.Checkpoint.Interval != 2*time.Second ||
		c.Limits.MaxInflightBytes != 1<<20 || c.Kafka.DeadLetterTopic != "shop.dlq" || c.Kafka.MetadataMaxAge != 30*time.Second {
		t.Errorf("env not applied: %+v", c)
	}
}

func TestEnvOnly(t *testing.T) {
	t.Parallel()
	c, err := Load("", []string{"WALRELAY_POSTGRES_DSN=postgres://u@h/db", "WALRELAY_KAFKA_BROKERS=k:9092"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Brokers[0] != "k:9092" {
		t.Fatal(c.Kafka.Brokers)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		env        []string
		want       []string // substrings of the error
	}{
		{"unknown key", minimal + "  bokers: [x:1]\n", nil, []string{":5:", "kafka.bokers", "unknown key"}},
		{"unknown top key", "postgress:\n  dsn: x\n", nil, []string{":1:", "postgress", "unknown key"}},
		{"missing dsn", "kafka:\n  brokers: [a:1]\n", nil, []string{"postgres.dsn", "missing", "WALRELAY_POSTGRES_DSN"}},
		{"missing brokers", "postgres:\n  dsn: postgres://u@h/db\n", nil, []string{"kafka.brokers", "missing"}},
		{"bad broker", "postgres:\n  dsn: postgres://u@h/db\nkafka:\n  brokers: [nohostport]\n", nil,
			[]string{":4:", "kafka.brokers", "host:port"}},
		{"bad on_failure", minimal + "  on_failure: ignore\n", nil, []string{":5:", "kafka.on_failure", "halt or dead_letter"}},
		{"bad metrics listen", minimal + "metrics:\n  listen: nope\n", nil, []string{":6:", "metrics.listen", "host:port"}},
		{"idempotence with compression", minimal + "  compression: zstd\n  idempotence: true\n", nil,
			[]string{":6:", "kafka.idempotence", "compression: none"}},
		{"bad duration", minimal + "  linger: soon\n", nil, []string{":5:"}},
		{"negative metadata_max_age", minimal + "  metadata_max_age: -1m\n", nil,
			[]string{"walrelay.yaml:5:", "kafka.metadata_max_age", "must be positive"}},
		{"bad metadata_max_age", minimal + "  metadata_max_age: often\n", nil, []string{"walrelay.yaml:5:"}},
		{"negative metadata_max_age env", minimal, []string{"WALRELAY_KAFKA_METADATA_MAX_AGE=-5s"},
			[]string{"kafka.metadata_max_age", "must be positive"}},
		{"bad yaml", "postgres: [\n", nil, []string{"walrelay.yaml"}},
		{"bad table", "postgres:\n  dsn: postgres://u@h/db\n  tables: [orders]\nkafka:\n  brokers: [a:1]\n", nil,
			[]string{":3:", "postgres.tables", "schema.table"}},
		{"short receive_timeout", "postgres:\n  dsn: postgres://u@h/db\n  receive_timeout: 1s\nkafka:\n  brokers: [a:1]\n", nil,
			[]string{":3:", "postgres.receive_timeout", "less than twice postgres.status_interval (1s)", "at least 2s"}},
		{"bad slot", "postgres:\n  dsn: postgres://u@h/db\n  slot: My-Slot\nkafka:\n  brokers: [a:1]\n", nil,
			[]string{":3:", "postgres.slot"}},
		{"bad dsn", "postgres:\n  dsn: 'postgres://u:secretpw@h:notaport/db'\nkafka:\n  brokers: [a:1]\n", nil,
			[]string{"postgres.dsn", "not a valid connection string"}},
		{"bad env", minimal, []string{"WALRELAY_KAFKA_MAX_ATTEMPTS=many"}, []string{"WALRELAY_KAFKA_MAX_ATTEMPTS"}},
		{"bad format", minimal + "format: protobuf\n", nil, []string{":5:", "format", "use avro or json"}},
		{"bad decimal mode", minimal + "decimal_handling_mode: exact\n", nil,
			[]string{":5:", "decimal_handling_mode", `unknown mode "exact"`, "precise, double, string"}},
		{"bad binary mode env", minimal, []string{"WALRELAY_BINARY_HANDLING_MODE=base32"},
			[]string{"binary_handling_mode", "bytes, base64, base64-url-safe, hex"}},
		{"bad time mode", minimal + "time_precision_mode: micro\n", nil,
			[]string{":5:", "time_precision_mode", "adaptive, adaptive_time_microseconds, connect"}},
		{"bad interval mode", minimal + "interval_handling_mode: iso_8601\n", nil,
			[]string{":5:", "interval_handling_mode", `unknown mode "iso_8601"`, "numeric, string", "interval.handling.mode"}},
		{"bad interval mode env", minimal, []string{"WALRELAY_INTERVAL_HANDLING_MODE=iso"},
			[]string{"interval_handling_mode", `unknown mode "iso"`, "numeric, string"}},
		{"bad store", minimal + "checkpoint:\n  store: redis\n", nil, []string{"checkpoint.store", "file or postgres"}},
		{"standby with a file store", "postgres:\n  dsn: postgres://u@h/app\n  standby: true\nkafka:\n  brokers: [a:1]\n", nil, []string{"postgres.standby", "checkpoint.store: postgres"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(writeConfig(t, tc.body), tc.env)
			if err == nil {
				t.Fatalf("no error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *config.Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("got %v", err)
	}
}

// TestTopicConfig: kafka.topic_config comes from the file as a map, and
// from WALRELAY_KAFKA_TOPIC_CONFIG as name=value pairs; a pair without '='
// is an error naming the variable.
func TestTopicConfig(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, minimal+"\n  topic_config: {cleanup.policy: compact, retention.ms: \"-1\"}\n")
	c, err := Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Kafka.TopicConfig) != 2 || c.Kafka.TopicConfig["cleanup.policy"] != "compact" || c.Kafka.TopicConfig["retention.ms"] != "-1" {
		t.Errorf("from the file: %v", c.Kafka.TopicConfig)
	}
	c, err = Load(writeConfig(t, minimal), []string{"WALRELAY_KAFKA_TOPIC_CONFIG=cleanup.policy=compact, min.insync.replicas=2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Kafka.TopicConfig) != 2 || c.Kafka.TopicConfig["min.insync.replicas"] != "2" {
		t.Errorf("from the environment: %v", c.Kafka.TopicConfig)
	}
	_, err = Load(writeConfig(t, minimal), []string{"WALRELAY_KAFKA_TOPIC_CONFIG=compact"})
	if err == nil || !strings.Contains(err.Error(), "WALRELAY_KAFKA_TOPIC_CONFIG") {
		t.Errorf("a pair without '=': %v", err)
	}
}
