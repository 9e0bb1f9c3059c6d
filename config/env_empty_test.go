package config

import (
	"errors"
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
