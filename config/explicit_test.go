package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// zeroAllowed are the numeric keys whose 0 is a setting of its own, not a
// mistake: no lingering, no replay window, no heartbeats.
var zeroAllowed = map[string]bool{"kafka.linger": true, "checkpoint.retain": true, "heartbeat.interval": true}

// TestExplicitZeroIsKept (audit d4): a number or duration set to 0 (or a
// negative value) is never replaced by the default. For every numeric key,
// from its variable: 0 is kept where it means something (zeroAllowed) and
// refused otherwise, a negative value is always refused, each refusal
// naming the variable and the key and giving a fix.
func TestExplicitZeroIsKept(t *testing.T) {
	t.Parallel()
	root := reflect.TypeOf(Config{})
	for _, k := range envKeys {
		ft := root.FieldByIndex(k.index).Type
		if ft != durationType && ft.Kind() != reflect.Int && ft.Kind() != reflect.Int64 {
			continue
		}
		for _, v := range []string{"0", "-1"} {
			if ft == durationType {
				v += "s"
			}
			c, err := Load(writeConfig(t, minimal), []string{k.name + "=" + v})
			if err == nil {
				got := reflect.ValueOf(c).Elem().FieldByIndex(k.index).Int()
				if !zeroAllowed[k.key] || v[0] == '-' || got != 0 {
					t.Errorf("%s=%s: accepted as %d", k.name, v, got)
				}
				continue
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != k.key || ce.Env != k.name || ce.Fix == "" {
				t.Errorf("%s=%s: %v, want an error for %s naming the variable, with a fix", k.name, v, err, k.key)
			}
			if zeroAllowed[k.key] && v[0] != '-' {
				t.Errorf("%s=%s: refused, but 0 is a setting: %v", k.name, v, err)
			}
		}
	}
}

// TestExplicitZeroFromFile (audit d4): the file's explicit 0 is kept or
// refused with file:line and the valid range; a key written without a
// value takes the default.
func TestExplicitZeroFromFile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		want       string // substring of the error; "" = loads
		check      func(*Config) bool
	}{
		{"linger 0s is no lingering", minimal + "  linger: 0s\n", "",
			func(c *Config) bool { return c.Kafka.Linger == 0 && c.Kafka.SinkLinger() == time.Nanosecond }},
		{"linger without a value is the default", minimal + "  linger:\n", "",
			func(c *Config) bool { return c.Kafka.Linger == DefaultLinger && c.Kafka.SinkLinger() == DefaultLinger }},
		{"linger left out is the default", minimal, "", func(c *Config) bool { return c.Kafka.Linger == DefaultLinger }},
		{"negative linger", minimal + "  linger: -1ms\n", "walrelay.yaml:5: kafka.linger: -1ms is negative (use 0s for no lingering", nil},
		{"max_attempts 0", minimal + "  max_attempts: 0\n", "walrelay.yaml:5: kafka.max_attempts: 0 is less than 1 (use at least 1", nil},
		{"topic_partitions 0", minimal + "  topic_partitions: 0\n", "walrelay.yaml:5: kafka.topic_partitions: 0 is less than 1 (use at least 1", nil},
		{"replication factor 0", minimal + "  topic_replication_factor: 0\n",
			"walrelay.yaml:5: kafka.topic_replication_factor: 0 is out of range (use 1 to the number of brokers", nil},
		{"parallelism 0", minimal + "snapshot:\n  parallelism: 0\n", "walrelay.yaml:6: snapshot.parallelism: 0 is out of range (use 1 to 64", nil},
		{"chunk_size 0", minimal + "snapshot:\n  chunk_size: 0\n", "walrelay.yaml:6: snapshot.chunk_size: 0 rows is too small (use at least 100", nil},
		{"retain negative", minimal + "checkpoint:\n  retain: -1h\n", "walrelay.yaml:6: checkpoint.retain: -1h0m0s is negative (use 0s", nil},
		{"retain 0s", minimal + "checkpoint:\n  retain: 0s\n", "", func(c *Config) bool { return c.Checkpoint.Retain == 0 }},
		{"heartbeat negative", minimal + "heartbeat:\n  interval: -5s\n", "walrelay.yaml:6: heartbeat.interval: -5s is negative (use 0s", nil},
		{"receive_timeout 0", "postgres:\n  dsn: postgres://u@h/db\n  receive_timeout: 0s\nkafka:\n  brokers: [a:1]\n",
			"walrelay.yaml:3: postgres.receive_timeout: must be positive", nil},
	} {
		cfg, err := Load(writeConfig(t, c.body), nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == "" && !c.check(cfg):
			t.Errorf("%s: loaded as %+v", c.name, cfg)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
