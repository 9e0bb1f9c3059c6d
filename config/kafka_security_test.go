package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pemFile writes a small file standing in for a PEM file (validation only
// checks that TLS files are readable).
func pemFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKafkaSecurityLoad(t *testing.T) {
	t.Parallel()
	ca, cert, key := pemFile(t, "ca.pem"), pemFile(t, "client.pem"), pemFile(t, "client-key.pem")
	body := minimal + "  tls:\n    enabled: true\n    ca_file: " + ca + "\n    cert_file: " + cert + "\n    key_file: " + key +
		"\n  sasl:\n    mechanism: SCRAM-SHA-512\n    username: walrelay\n"
	c, err := Load(writeConfig(t, body), []string{"WALRELAY_KAFKA_SASL_PASSWORD=s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	want := KafkaTLS{Enabled: true, CAFile: ca, CertFile: cert, KeyFile: key}
	if c.Kafka.TLS != want {
		t.Errorf("tls = %+v, want %+v", c.Kafka.TLS, want)
	}
	if s := c.Kafka.SASL; s.Mechanism != SASLScramSHA512 || s.Username != "walrelay" || s.Password != "s3cret" {
		t.Errorf("sasl = %+v, want scram-sha-512 (normalised), walrelay and the password from the environment", s)
	}
}

func TestKafkaSecurityEnvOnly(t *testing.T) {
	t.Parallel()
	env := []string{
		"WALRELAY_KAFKA_TLS_ENABLED=true",
		"WALRELAY_KAFKA_TLS_INSECURE_SKIP_VERIFY=1",
		"WALRELAY_KAFKA_SASL_MECHANISM=Plain",
		"WALRELAY_KAFKA_SASL_USERNAME=APIKEY",
		"WALRELAY_KAFKA_SASL_PASSWORD=s3cret",
	}
	c, err := Load(writeConfig(t, minimal), env)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Kafka.TLS.Enabled || !c.Kafka.TLS.InsecureSkipVerify || c.Kafka.SASL != (KafkaSASL{"plain", "APIKEY", "s3cret"}) {
		t.Errorf("env not applied: tls %+v sasl mechanism %q user %q", c.Kafka.TLS, c.Kafka.SASL.Mechanism, c.Kafka.SASL.Username)
	}
	if d, err := Load(writeConfig(t, minimal), nil); err != nil || d.Kafka.TLS.Enabled || d.Kafka.SASL.Mechanism != "" {
		t.Errorf("defaults: %+v %v", d, err)
	}
	if _, err := Load(writeConfig(t, minimal), []string{"WALRELAY_KAFKA_TLS_ENABLED=yes please"}); err == nil ||
		!strings.Contains(err.Error(), "WALRELAY_KAFKA_TLS_ENABLED") {
		t.Errorf("bad bool: %v", err)
	}
}

func TestKafkaSecurityErrors(t *testing.T) {
	t.Parallel()
	ca := pemFile(t, "ca.pem")
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	cases := []struct {
		name, body string
		env        []string
		want       []string
	}{
		{"unknown mechanism", minimal + "  sasl:\n    mechanism: gssapi\n    username: u\n    password: secretpw\n", nil,
			[]string{":6:", "kafka.sasl.mechanism", `"gssapi"`, "scram-sha-512"}},
		{"mechanism without username", minimal + "  sasl:\n    mechanism: plain\n    password: secretpw\n", nil,
			[]string{"kafka.sasl.username", "missing"}},
		{"mechanism without password", minimal + "  sasl:\n    mechanism: plain\n    username: u\n", nil,
			[]string{"kafka.sasl.password", "WALRELAY_KAFKA_SASL_PASSWORD"}},
		{"credentials without mechanism", minimal + "  sasl:\n    username: u\n", []string{"WALRELAY_KAFKA_SASL_PASSWORD=secretpw"},
			[]string{"kafka.sasl.mechanism", "missing"}},
		{"cert without key", minimal + "  tls:\n    enabled: true\n    cert_file: " + ca + "\n", nil,
			[]string{":7:", "kafka.tls.cert_file", "without kafka.tls.key_file"}},
		{"key without cert", minimal + "  tls:\n    enabled: true\n    key_file: " + ca + "\n", nil,
			[]string{":7:", "kafka.tls.key_file", "without kafka.tls.cert_file"}},
		{"file while disabled", minimal + "  tls:\n    ca_file: " + ca + "\n", nil,
			[]string{":6:", "kafka.tls.ca_file", "kafka.tls.enabled is false", "set kafka.tls.enabled: true"}},
		{"insecure while disabled", minimal + "  tls:\n    insecure_skip_verify: true\n", nil,
			[]string{"kafka.tls.insecure_skip_verify", "set kafka.tls.enabled: true"}},
		{"missing file", minimal + "  tls:\n    enabled: true\n    ca_file: " + missing + "\n", nil,
			[]string{":7:", "kafka.tls.ca_file", missing, "no such file"}},
		{"empty file", minimal + "  tls:\n    enabled: true\n    ca_file: " + empty + "\n", nil,
			[]string{"kafka.tls.ca_file", "empty"}},
		{"directory", minimal + "  tls:\n    enabled: true\n    ca_file: " + t.TempDir() + "\n", nil,
			[]string{"kafka.tls.ca_file", "is a directory"}},
		{"unknown tls key", minimal + "  tls:\n    enable: true\n", nil, []string{":6:", "kafka.tls.enable", "unknown key"}},
		{"unknown sasl key", minimal + "  sasl:\n    user: u\n", nil, []string{":6:", "kafka.sasl.user", "unknown key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(writeConfig(t, tc.body), tc.env)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, want *config.Error", err, err)
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
