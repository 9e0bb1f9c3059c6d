package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestEnvSetButEmptyFix (audit m5): a required key whose variable is set
// but empty is reported as "set but empty", and the fix says to give the
// variable a value or unset it (to use the file's value, or to set the key
// in the file), never to set the variable that is set.
func TestEnvSetButEmptyFix(t *testing.T) {
	t.Parallel()
	const noBrokers = "postgres:\n  dsn: postgres://walrelay@127.0.0.1:5432/app\n"
	const saslPlain = auditConfig + "  sasl:\n    mechanism: plain\n    username: u\n"
	for _, c := range []struct {
		name, body, env string
		want            []string
	}{
		{"brokers in the file", auditConfig, "WALRELAY_KAFKA_BROKERS=",
			[]string{"WALRELAY_KAFKA_BROKERS: set but empty (give it a value, e.g. 127.0.0.1:9092, or a comma-separated list; " +
				"or unset it to use the file's kafka.brokers; set in the environment for kafka.brokers, overriding "}},
		{"brokers not in the file", noBrokers, "WALRELAY_KAFKA_BROKERS=",
			[]string{"set but empty", "or unset it and set kafka.brokers in the file"}},
		{"dsn", auditConfig, "WALRELAY_POSTGRES_DSN=",
			[]string{"set but empty", "give it a value, e.g. postgres://walrelay@127.0.0.1:5432/app; or unset it to use the file's postgres.dsn"}},
		{"sasl password", saslPlain, "WALRELAY_KAFKA_SASL_PASSWORD=",
			[]string{"WALRELAY_KAFKA_SASL_PASSWORD: set but empty while kafka.sasl.mechanism is plain", "give it a value; or unset it and set kafka.sasl.password in the file"}},
	} {
		ce, _ := loadErr(t, c.body, c.env)
		name, _, _ := strings.Cut(c.env, "=")
		msg := ce.Error()
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", c.name, msg, w)
			}
		}
		if strings.Contains(msg, "set "+name) || strings.Contains(msg, "missing") {
			t.Errorf("%s: %q tells to set the variable that is set, or calls it missing", c.name, msg)
		}
	}
	// Without a config file there is no file to fall back on.
	_, err := Load("", []string{"WALRELAY_POSTGRES_DSN=postgres://u@h/db", "WALRELAY_KAFKA_BROKERS="})
	var ce *Error
	if !errors.As(err, &ce) || !strings.HasSuffix(ce.Fix, "a comma-separated list") {
		t.Errorf("no file: %v, want a fix that only says to give it a value", err)
	}
}

// TestEnvEmptyNonStringIsUnset (audit auditc2 #6): a number, duration or
// true/false key's variable set to "" is the key not set, as the same key
// written without a value in the file (`linger:`): it loads, with the
// key's default, and overrides the file's value. Kubernetes and Helm give
// a variable "" when a value is left out; refusing it ("set but empty")
// contradicted README and the file.
func TestEnvEmptyNonStringIsUnset(t *testing.T) {
	t.Parallel()
	def, err := Load(writeConfig(t, minimal), nil)
	if err != nil {
		t.Fatal(err)
	}
	root := reflect.TypeOf(Config{})
	n := 0
	for _, k := range envKeys {
		switch root.FieldByIndex(k.index).Type.Kind() {
		case reflect.String, reflect.Slice, reflect.Map:
			continue
		}
		n++
		c, err := Load(writeConfig(t, minimal), []string{k.name + "="})
		if err != nil {
			t.Errorf("%s=: %v, want the default of %s", k.name, err, k.key)
			continue
		}
		got := reflect.ValueOf(c).Elem().FieldByIndex(k.index).Interface()
		want := reflect.ValueOf(def).Elem().FieldByIndex(k.index).Interface()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s=: %s is %v, want its default %v", k.name, k.key, got, want)
		}
	}
	if n < 20 {
		t.Errorf("only %d number, duration and true/false keys", n)
	}
	// The empty variable overrides the file's value with "not set".
	body := minimal + "  linger: 1s\n  idempotence: false\n  max_attempts: 3\nheartbeat:\n  interval: 10s\n"
	c, err := Load(writeConfig(t, body), []string{"WALRELAY_KAFKA_LINGER=", "WALRELAY_KAFKA_IDEMPOTENCE=",
		"WALRELAY_KAFKA_MAX_ATTEMPTS=", "WALRELAY_HEARTBEAT_INTERVAL="})
	if err != nil {
		t.Fatal(err)
	}
	if k := c.Kafka; k.Linger != DefaultLinger || k.Idempotence != nil || k.MaxAttempts != 10 || c.Heartbeat.Interval != 0 {
		t.Errorf("linger %v, idempotence %v, max_attempts %d, heartbeat %v: want the defaults 5ms, unset, 10, 0s",
			k.Linger, k.Idempotence, k.MaxAttempts, c.Heartbeat.Interval)
	}
}
