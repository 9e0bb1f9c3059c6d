package config

import (
	"strings"
	"testing"
)

// TestYAMLTypeErrors (audit d8): a value of the wrong type is reported with
// file:line, the key and what the key takes, not yaml.v3's Go type names.
func TestYAMLTypeErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, body, want string }{
		{"duration without unit", minimal + "  linger: 5\n",
			`walrelay.yaml:5: kafka.linger: "5" is not a duration such as 500ms, 30s or 5m (write a number with its unit`},
		{"bool", minimal + "  tombstones: maybe\n", `walrelay.yaml:5: kafka.tombstones: "maybe" is not true or false (write true or false)`},
		{"int", minimal + "  topic_partitions: three\n", `walrelay.yaml:5: kafka.topic_partitions: "three" is not a whole number`},
		{"int64", minimal + "limits:\n  max_inflight_bytes: 64MiB\n", `walrelay.yaml:6: limits.max_inflight_bytes: "64MiB" is not a whole number`},
		{"list", "postgres:\n  dsn: postgres://u@h/db\n  tables: {a: b}\n",
			`walrelay.yaml:3: postgres.tables: a mapping (key: value) is not a list`},
		{"list item", "postgres:\n  dsn: postgres://u@h/db\n  tables:\n    - public.a\n    - [x]\nkafka:\n  brokers: [a:1]\n",
			`walrelay.yaml:5: postgres.tables: a list is not a list item (one value)`},
		{"section", minimal + "  tls: yes\n", `walrelay.yaml:5: kafka.tls: "yes" is not a section (write its keys indented under it`},
		{"string", minimal + "topic_prefix: [a, b]\n", `walrelay.yaml:5: topic_prefix: a list is not a single value`},
		{"topic_config value", minimal + "  topic_config:\n    retention.ms: [1]\n",
			`walrelay.yaml:6: kafka.topic_config.retention.ms: a list is not a single value`},
	} {
		_, err := Load(writeConfig(t, c.body), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "unmarshal") {
			t.Errorf("%s: yaml.v3's wording: %v", c.name, err)
		}
	}
}

// TestUnknownKeySuggestion (audit d7): an unknown key in the file gets the
// nearest key of its section, or the section that has a key of that name.
func TestUnknownKeySuggestion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, body, want string }{
		{"typo", minimal + "  broker: [a:1]\n", "walrelay.yaml:5: kafka.broker: unknown key (did you mean kafka.brokers?)"},
		{"section typo", minimal + "snapshto:\n  mode: never\n", "walrelay.yaml:5: snapshto: unknown key (did you mean snapshot?)"},
		{"top-level typo", minimal + "topic_prefx: app\n", "did you mean topic_prefix?"},
		{"nested typo", minimal + "  tls:\n    enable: true\n", "walrelay.yaml:6: kafka.tls.enable: unknown key (did you mean kafka.tls.enabled?)"},
		{"wrong section", minimal + "  slot: s\n", "kafka.slot: unknown key (did you mean postgres.slot? (check the key's indentation))"},
		{"nothing near", minimal + "  zzzzzzzz: 1\n", "unknown key (check its spelling against README.md's configuration reference)"},
	} {
		_, err := Load(writeConfig(t, c.body), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
