package config

import (
	"errors"
	"strings"
	"testing"
)

// TestHeartbeatTopicWarning (audit d5): heartbeat.topic without
// heartbeat.interval publishes nothing (README: the interval emits
// heartbeats, the topic only publishes them), so it is a warning located
// at the key's line or variable; with an interval there is none.
func TestHeartbeatTopicWarning(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		env        []string
		want       string // "" = no warning
	}{
		{"topic alone", minimal + "heartbeat:\n  topic: app.hb\n", nil,
			`walrelay.yaml:6: heartbeat.topic: set to "app.hb" while heartbeat.interval is 0s (off)`},
		{"topic with interval 0s", minimal + "heartbeat:\n  interval: 0s\n  topic: app.hb\n", nil, "walrelay.yaml:7: heartbeat.topic"},
		{"topic from the environment", minimal, []string{"WALRELAY_HEARTBEAT_TOPIC=app.hb"},
			"WALRELAY_HEARTBEAT_TOPIC: set to \"app.hb\" while heartbeat.interval is 0s"},
		{"topic and interval", minimal + "heartbeat:\n  interval: 10s\n  topic: app.hb\n", nil, ""},
		{"interval alone", minimal + "heartbeat:\n  interval: 10s\n", nil, ""},
	} {
		cfg, err := Load(writeConfig(t, c.body), c.env)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ws := cfg.Warnings()
		switch {
		case c.want == "" && len(ws) > 0:
			t.Errorf("%s: unexpected warnings %v", c.name, ws)
		case c.want != "" && (len(ws) != 1 || !strings.Contains(ws[0].What, c.want) || !strings.Contains(ws[0].Fix, "heartbeat.interval")):
			t.Errorf("%s: got %v, want one warning with %q and a fix", c.name, ws, c.want)
		}
	}
}

// TestDeadLetterTopic (audit d8): an invalid kafka.dead_letter_topic is one
// config error with the key's line or its variable (run and check both
// stop at Load), not a sink error without either.
func TestDeadLetterTopic(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		env        []string
		want       string // "" = loads
	}{
		{"file", minimal + "  dead_letter_topic: \"bad topic!\"\n", nil,
			`walrelay.yaml:5: kafka.dead_letter_topic: "bad topic!" is not a valid topic name: Kafka topic names cannot contain ' ' (use at most 249 ASCII letters`},
		{"environment", minimal, []string{"WALRELAY_KAFKA_DEAD_LETTER_TOPIC=a/b"},
			`WALRELAY_KAFKA_DEAD_LETTER_TOPIC: "a/b" is not a valid topic name: Kafka topic names cannot contain '/'`},
		{"too long", minimal + "  dead_letter_topic: " + strings.Repeat("d", 250) + "\n", nil,
			"walrelay.yaml:5: kafka.dead_letter_topic: 250 characters is too long a topic name"},
		{"dot", minimal + "  dead_letter_topic: \"..\"\n", nil, `kafka.dead_letter_topic: ".." is not a valid topic name`},
		{"valid", minimal + "  dead_letter_topic: app.dlq-1\n", nil, ""},
		{"default from the prefix", minimal + "topic_prefix: shop.eu\n", nil, ""},
		{"bad prefix is reported as the prefix", minimal + "topic_prefix: \"shop eu\"\n", nil, "topic_prefix: \"shop eu\""},
	} {
		_, err := Load(writeConfig(t, c.body), c.env)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestTableNameHintOnce (audit d8): a table name without a schema gets the
// double-quote hint once, not in the message and again in the fix.
func TestTableNameHintOnce(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"orders", `"my.schema.orders`, ".orders"} {
		body := "postgres:\n  dsn: postgres://u@h/db\n  tables: ['" + name + "']\nkafka:\n  brokers: [a:1]\n"
		_, err := Load(writeConfig(t, body), nil)
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("%s: %v", name, err)
		}
		if n := strings.Count(err.Error(), "double-quote"); n != 1 || !strings.Contains(err.Error(), "public.orders") {
			t.Errorf("%s: the hint %d times, want once with the schema example: %v", name, n, err)
		}
	}
}
