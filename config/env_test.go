package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// auditConfig is the audit's ok.yaml: postgres.dsn on line 2, kafka.brokers
// on line 7.
const auditConfig = `postgres:
  dsn: postgres://walrelay@127.0.0.1:5432/app
  slot: audit
kafka:
  linger: 5ms
  compression: none
  brokers: [127.0.0.1:9092]
`

// loadErr loads body with env and returns the *Error, failing the test
// when there is none or it is of another type.
func loadErr(t *testing.T, body string, env ...string) (*Error, string) {
	t.Helper()
	path := writeConfig(t, body)
	_, err := Load(path, env)
	if err == nil {
		t.Fatalf("env %q: no error", env)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T (%v), want *config.Error", err, err)
	}
	return ce, path
}

// TestEnvValueErrorsNameTheVariable: a wrong value from a variable is
// reported under the variable's name, with the key it sets and the line
// of the file it overrides, never as an error at that line (audit D6).
func TestEnvValueErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, env, key string
		line           int      // line of key in auditConfig, 0 = not set there
		want           []string // substrings of the message
		not            []string // must not appear
	}{
		{"non-postgres URL", "WALRELAY_POSTGRES_DSN=mysql://x@y/z", "postgres.dsn", 2,
			[]string{"a mysql:// URL is not a PostgreSQL connection string", "postgres://user:password@host:port/db"},
			[]string{"xxxxxx", "mysql:x"}},
		{"unparsable dsn", "WALRELAY_POSTGRES_DSN=host=h port=abc", "postgres.dsn", 2,
			[]string{"not a valid connection string"}, nil},
		{"set but empty dsn", "WALRELAY_POSTGRES_DSN=", "postgres.dsn", 2, []string{"set but empty"}, []string{"missing"}},
		{"bad broker", "WALRELAY_KAFKA_BROKERS=notahost", "kafka.brokers", 7, []string{`"notahost" is not host:port`}, nil},
		{"empty brokers", "WALRELAY_KAFKA_BROKERS=", "kafka.brokers", 7, []string{"set but empty"}, nil},
		{"small inflight bytes", "WALRELAY_LIMITS_MAX_INFLIGHT_BYTES=10", "limits.max_inflight_bytes", 0,
			[]string{"10 bytes is too small", "at least 65536 bytes"}, []string{"max_inflight_events"}},
		{"unparsable int", "WALRELAY_KAFKA_MAX_ATTEMPTS=many", "kafka.max_attempts", 0, []string{`"many" is not a whole number`}, nil},
		{"unparsable duration", "WALRELAY_KAFKA_LINGER=soon", "kafka.linger", 5, []string{`"soon" is not a duration`}, nil},
		{"bad value from a file-set key", "WALRELAY_KAFKA_COMPRESSION=brotli", "kafka.compression", 6, []string{`unknown value "brotli"`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce, path := loadErr(t, auditConfig, tc.env)
			name, _, _ := strings.Cut(tc.env, "=")
			msg := ce.Error()
			if ce.Env != name || ce.Key != tc.key || ce.Line != tc.line {
				t.Errorf("Env %q Key %q Line %d, want %q %q %d: %s", ce.Env, ce.Key, ce.Line, name, tc.key, tc.line, msg)
			}
			if !strings.HasPrefix(msg, name+": ") {
				t.Errorf("%q does not start with the variable's name", msg)
			}
			want := append([]string{"set in the environment for " + tc.key}, tc.want...)
			if tc.line > 0 {
				want = append(want, fmt.Sprintf("overriding %s:%d", path, tc.line))
			}
			for _, w := range want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
			if tc.line == 0 && strings.Contains(msg, "overriding") {
				t.Errorf("%q names a line the file does not have", msg)
			}
			for _, n := range append(tc.not, fmt.Sprintf("%s:%d:", path, tc.line)) {
				if strings.Contains(msg, n) {
					t.Errorf("%q contains %q", msg, n)
				}
			}
		})
	}
}

// TestFileValueErrorsKeepTheirForm: a wrong value in the file is still
// "file:line: key: msg (fix)", with no mention of the environment.
func TestFileValueErrorsKeepTheirForm(t *testing.T) {
	t.Parallel()
	ce, path := loadErr(t, strings.Replace(auditConfig, "127.0.0.1:9092", "notahost", 1))
	want := path + `:7: kafka.brokers: "notahost" is not host:port (e.g. 127.0.0.1:9092)`
	if ce.Error() != want || ce.Env != "" {
		t.Errorf("got %q (Env %q), want %q", ce.Error(), ce.Env, want)
	}
}

// TestErrorsNameTheWrongKey: checks of two keys at once name the key whose
// value is wrong; a key that is too small compared with another names the
// one that was set.
func TestErrorsNameTheWrongKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		env        []string
		key        string
	}{
		{"inflight bytes in the file", minimal + "limits:\n  max_inflight_bytes: 10\n", nil, "limits.max_inflight_bytes"},
		{"inflight events", minimal + "limits:\n  max_inflight_events: -1\n", nil, "limits.max_inflight_events"},
		{"replication factor", minimal + "  topic_replication_factor: -1\n", nil, "kafka.topic_replication_factor"},
		{"partitions", minimal + "  topic_partitions: -1\n", nil, "kafka.topic_partitions"},
		{"batch bytes", minimal + "  batch_max_bytes: 10\n", nil, "kafka.batch_max_bytes"},
		{"batch records", minimal + "  batch_max_records: -1\n", nil, "kafka.batch_max_records"},
		{"backoff_max below the default min", minimal, []string{"WALRELAY_KAFKA_BACKOFF_MAX=1ms"}, "kafka.backoff_max"},
		{"backoff_min above the default max", minimal + "  backoff_min: 10s\n", nil, "kafka.backoff_min"},
		{"both backoffs set", minimal + "  backoff_min: 10s\n  backoff_max: 1s\n", nil, "kafka.backoff_max"},
		{"status_interval alone", minimal, []string{"WALRELAY_POSTGRES_STATUS_INTERVAL=40s"}, "postgres.status_interval"},
		{"receive_timeout alone", minimal, []string{"WALRELAY_POSTGRES_RECEIVE_TIMEOUT=1s"}, "postgres.receive_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ce, _ := loadErr(t, tc.body, tc.env...)
			if ce.Key != tc.key {
				t.Errorf("error names %q, want %q: %v", ce.Key, tc.key, ce)
			}
			if len(tc.env) == 0 && ce.Line == 0 {
				t.Errorf("error has no line: %v", ce)
			}
		})
	}
}

// TestUnknownEnvVariables: a WALRELAY_<SECTION>_... variable that matches
// no key, or one a typo or two away from a config variable, is an error
// naming it and the nearest config variable.
func TestUnknownEnvVariables(t *testing.T) {
	t.Parallel()
	cases := []struct{ env, suggest string }{
		{"WALRELAY_KAFAK_BROKERS=x:1", "WALRELAY_KAFKA_BROKERS"},
		{"WALRELAY_POSTGRES_SLTO=x", "WALRELAY_POSTGRES_SLOT"},
		{"WALRELAY_TOPIC_PREFX=x", "WALRELAY_TOPIC_PREFIX"},
		{"WALRELAY_DATADIR=/tmp", "WALRELAY_DATA_DIR"},
		{"WALRELAY_KAFKA_SASL_PASWORD=x", "WALRELAY_KAFKA_SASL_PASSWORD"},
		{"WALRELAY_KAFKA_TLS=true", "WALRELAY_KAFKA_TLS_ENABLED, WALRELAY_KAFKA_TLS_CA_FILE"},
		{"WALRELAY_POSTGRES=postgres://u@h/db", "WALRELAY_POSTGRES_DSN, WALRELAY_POSTGRES_SLOT"},
		{"WALRELAY_SCHEMA_REGISTRY_URI=http://r:8081", "WALRELAY_SCHEMA_REGISTRY_URL"},
		{"WALRELAY_LOG_DIR=/var/log", "WALRELAY_"},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			ce, _ := loadErr(t, auditConfig, tc.env, "WALRELAY_POSTGRES_SLOT=fine")
			name, _, _ := strings.Cut(tc.env, "=")
			msg := ce.Error()
			if ce.Env != name || ce.Key != "" || !strings.Contains(msg, tc.suggest) ||
				!(strings.HasPrefix(msg, name+": matches no config key") || strings.HasPrefix(msg, name+": names a section")) {
				t.Errorf("got %q, want %s named with the suggestion %s", msg, name, tc.suggest)
			}
		})
	}
	// With several, the first by name is reported whatever the order.
	ce, _ := loadErr(t, auditConfig, "WALRELAY_POSTGRES_SLTO=x", "WALRELAY_KAFAK_BROKERS=x:1")
	if ce.Env != "WALRELAY_KAFAK_BROKERS" || !strings.Contains(ce.Error(), "did you mean WALRELAY_KAFKA_BROKERS, which sets kafka.brokers?") {
		t.Errorf("got %v", ce)
	}
}

// TestEnvVariablesReadOutsideTheConfig: the variables walrelay's tests and
// tools read, Kubernetes service links and unrelated WALRELAY_ names far
// from any config variable do not stop walrelay.
func TestEnvVariablesReadOutsideTheConfig(t *testing.T) {
	t.Parallel()
	env := []string{
		"WALRELAY_TEST_PG_DSN=postgres://u@h/db", "WALRELAY_TEST_KAFKA_BROKERS=k:1", "WALRELAY_TEST_KAFKA_CTL=x",
		"WALRELAY_TEST_KAFKA_SASL_USER=u", "WALRELAY_TEST_REGISTRY_URL=http://r", "WALRELAY_TEST_PYTHON=python3",
		"WALRELAY_CHAOS_DURATION=30m", "WALRELAY_CHAOS_SEED=7", "WALRELAY_CACHE=/tmp/c",
		"WALRELAY_CI_TEST_CMD=go test", "WALRELAY_SERVICES_DIR=/tmp/s", "WALRELAY_PG_USER=pg",
		"WALRELAY_MASK_SALT=s3cret", "WALRELAY_KAFKA_SASL_PASSWORD=",
		"WALRELAY_SERVICE_HOST=10.0.0.1", "WALRELAY_PORT=tcp://10.0.0.1:8081", "WALRELAY_PORT_8081_TCP_ADDR=10.0.0.1",
		"WALRELAY_METRICS_SERVICE_HOST=10.0.0.2", "WALRELAY_METRICS_SERVICE_PORT_HTTP=9187",
		"WALRELAY_METRICS_PORT=tcp://10.0.0.2:9187", "WALRELAY_METRICS_PORT_9187_TCP=tcp://10.0.0.2:9187",
		"WALRELAY_VERSION=1.2.3", "walrelay_postgres_slto=x",
	}
	c, err := Load(writeConfig(t, auditConfig), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaskSalt != "s3cret" {
		t.Errorf("mask_salt %q, want it from WALRELAY_MASK_SALT", c.MaskSalt)
	}
}

// TestEnvKeys: every config key has exactly one variable, and the
// sections are the top-level mappings.
func TestEnvKeys(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range envKeys {
		if seen[k.name] {
			t.Errorf("two keys read %s", k.name)
		}
		seen[k.name] = true
		if envOutsideConfig.MatchString(k.name) || envServiceLink.MatchString(k.name) {
			t.Errorf("%s (%s) is exempt from the unknown-variable check, so a key's variable would be mistaken for another's", k.name, k.key)
		}
	}
	for name, key := range map[string]string{
		"WALRELAY_POSTGRES_DSN": "postgres.dsn", "WALRELAY_KAFKA_SASL_PASSWORD": "kafka.sasl.password",
		"WALRELAY_TOPIC_PREFIX": "topic_prefix", "WALRELAY_SCHEMA_REGISTRY_URL": "schema_registry.url",
		"WALRELAY_MASK_SALT": "mask_salt", "WALRELAY_FILE": "",
	} {
		if got := keyOf(name); got != key {
			t.Errorf("keyOf(%s) = %q, want %q", name, got, key)
		}
	}
	got := strings.Join(envSections, ",")
	want := "POSTGRES,KAFKA,CHECKPOINT,LIMITS,PUBLICATION,SCHEMA_REGISTRY,HEARTBEAT,SNAPSHOT,LOG,METRICS"
	if got != want {
		t.Errorf("sections %s, want %s", got, want)
	}
}
