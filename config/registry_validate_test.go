package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCheckSchemaRegistry(t *testing.T) {
	t.Parallel()
	pem := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(pem, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := SchemaRegistry{Listen: "127.0.0.1:8081", Compatibility: "BACKWARD", Timeout: 10 * time.Second}
	cases := []struct {
		name    string
		format  string
		mod     func(*SchemaRegistry)
		wantKey string
	}{
		{"embedded", "avro", func(*SchemaRegistry) {}, ""},
		{"json ignores the section", "json", func(s *SchemaRegistry) { s.Compatibility = "SIDEWAYS" }, ""},
		{"lower-case level", "avro", func(s *SchemaRegistry) { s.Compatibility = "full_transitive" }, ""},
		{"unknown level", "avro", func(s *SchemaRegistry) { s.Compatibility = "SIDEWAYS" }, "schema_registry.compatibility"},
		{"bad listen", "avro", func(s *SchemaRegistry) { s.Listen = "8081" }, "schema_registry.listen"},
		{"zero timeout", "avro", func(s *SchemaRegistry) { s.Timeout = 0 }, "schema_registry.timeout"},
		{"external", "avro", func(s *SchemaRegistry) { s.URL = "https://r:8081"; s.CAFile = pem; s.Username, s.Password = "u", "p" }, ""},
		{"not a URL", "avro", func(s *SchemaRegistry) { s.URL = "r:8081" }, "schema_registry.url"},
		{"credentials in URL", "avro", func(s *SchemaRegistry) { s.URL = "https://u:p@r:8081" }, "schema_registry.url"},
		{"password alone", "avro", func(s *SchemaRegistry) { s.URL = "https://r"; s.Password = "p" }, "schema_registry.username"},
		{"cert without key", "avro", func(s *SchemaRegistry) { s.URL = "https://r"; s.CertFile = pem }, "schema_registry.cert_file"},
		{"TLS over http", "avro", func(s *SchemaRegistry) { s.URL = "http://r"; s.CAFile = pem }, "schema_registry.ca_file"},
		{"missing CA", "avro", func(s *SchemaRegistry) { s.URL = "https://r"; s.CAFile = pem + ".missing" }, "schema_registry.ca_file"},
	}
	for _, c := range cases {
		sr := ok
		c.mod(&sr)
		cfg := &Config{Format: c.format, SchemaRegistry: sr}
		err := cfg.checkSchemaRegistry()
		switch {
		case c.wantKey == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantKey != "" && (err == nil || err.Key != c.wantKey):
			t.Errorf("%s: error %v, want one for %s", c.name, err, c.wantKey)
		}
	}
}
