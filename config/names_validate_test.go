package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestTablesQuoted: postgres.tables takes PostgreSQL's double-quote rules,
// so a schema with a dot can be named, and each name is kept in the one
// spelling walrelay prints and compares (pgident.Format).
func TestTablesQuoted(t *testing.T) {
	t.Parallel()
	body := "postgres:\n  dsn: postgres://u@h/db\n  tables: ['\"x.y\".z', '\"Sales\".\"Orders\"', public.orders, 'public.Mixed Case']\n" +
		"kafka:\n  brokers: [a:1]\n"
	c, err := Load(writeConfig(t, body), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`"x.y".z`, "Sales.Orders", "public.orders", "public.Mixed Case"}
	if !slices.Equal(c.Postgres.Tables, want) {
		t.Errorf("tables = %q, want %q", c.Postgres.Tables, want)
	}
	for _, bad := range []string{`'"x.y"'`, `'"x.y.z'`, `'"x.y"z'`} {
		body := "postgres:\n  dsn: postgres://u@h/db\n  tables: [" + bad + "]\nkafka:\n  brokers: [a:1]\n"
		_, err := Load(writeConfig(t, body), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "postgres.tables" || !strings.Contains(ce.Fix, "double-quote") {
			t.Errorf("tables [%s]: error %v, want a postgres.tables error saying to double-quote", bad, err)
		}
	}
}

// TestTopicPrefixKafkaChars: a topic_prefix Kafka cannot take is reported
// under topic_prefix, not under the dead-letter topic it defaults.
func TestTopicPrefixKafkaChars(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"é", "a:b", "my app", "a+b", strings.Repeat("p", 201)} {
		_, err := Load(writeConfig(t, minimal+"topic_prefix: '"+p+"'\n"), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "topic_prefix" {
			t.Errorf("topic_prefix %q: error %v, want one naming topic_prefix", p, err)
		}
	}
	if _, err := Load(writeConfig(t, minimal+"topic_prefix: my-app_1.prod\n"), nil); err != nil {
		t.Errorf("a legal prefix: %v", err)
	}
}
