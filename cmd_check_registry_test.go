package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// registryConfig is an Avro configuration with schema_registry.url u.
func registryConfig(u string) *config.Config {
	cfg := &config.Config{Format: "avro"}
	cfg.SchemaRegistry.URL = u
	cfg.SchemaRegistry.Timeout = 5 * time.Second
	return cfg
}

// TestCheckRegistry is the audit's finding: `walrelay check` with format
// avro fails, with a fix, on a registry that is down, that refuses the
// credentials or that is not the Confluent API, and passes one that answers;
// JSON and the embedded registry get no line.
func TestCheckRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dead := "http://" + testenv.FreeAddr(t)
	confluent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/subjects":
			http.NotFound(w, r)
		case r.Header.Get("Authorization") == "":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Write([]byte(`["app.public.t-value","app.public.t-key"]`))
		}
	}))
	defer confluent.Close()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<html>hello</html>"))
	}))
	defer web.Close()
	authed := registryConfig(confluent.URL)
	authed.SchemaRegistry.Username, authed.SchemaRegistry.Password = "u", "p"
	for _, tc := range []struct {
		name string
		cfg  *config.Config
		ok   bool
		what string
		fix  string
		none bool
	}{
		{name: "down", cfg: registryConfig(dead), what: "connection refused", fix: "schema_registry.url"},
		{name: "credentials", cfg: registryConfig(confluent.URL), what: "HTTP 401", fix: "schema_registry.username"},
		{name: "not confluent", cfg: registryConfig(web.URL), what: "not the Confluent schema registry API", fix: "/apis/ccompat/v7"},
		{name: "bad url", cfg: registryConfig("registry:8081"), what: "not an http(s) URL", fix: "schema_registry.url"},
		{name: "answers", cfg: authed, ok: true, what: "the Confluent API answers (2 subjects)"},
		{name: "json", cfg: &config.Config{Format: "json"}, none: true},
		{name: "embedded", cfg: registryConfig(""), none: true},
	} {
		fs := checkRegistry(ctx, tc.cfg)
		if tc.none {
			if len(fs) != 0 {
				t.Errorf("%s: findings %+v, want none", tc.name, fs)
			}
			continue
		}
		if len(fs) != 1 || fs[0].OK != tc.ok || !strings.Contains(fs[0].What, tc.what) || !strings.Contains(fs[0].Fix, tc.fix) {
			t.Errorf("%s: findings %+v, want ok=%v with %q, fix with %q", tc.name, fs, tc.ok, tc.what, tc.fix)
		}
	}
	// The shared registry (Apicurio's ccompat API, with its native API).
	if u := os.Getenv("WALRELAY_TEST_REGISTRY_URL"); u != "" {
		fs := checkRegistry(ctx, registryConfig(u))
		if len(fs) != 1 || !fs[0].OK {
			t.Errorf("shared registry %s: %+v", u, fs)
		}
		t.Logf("shared registry: %s", fs[0].What)
	}
}

// TestCheckRegistryLine: `walrelay check` prints the registry's finding as a
// FAIL line with its fix (here with PostgreSQL and Kafka down too).
func TestCheckRegistryLine(t *testing.T) {
	t.Parallel()
	dead := "http://" + testenv.FreeAddr(t)
	file := filepath.Join(t.TempDir(), "walrelay.yaml")
	body := "postgres:\n  dsn: postgres://u@127.0.0.1:1/db?connect_timeout=1\nkafka:\n  brokers: [127.0.0.1:1]\n" +
		"format: avro\nschema_registry:\n  url: " + dead + "\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := cmdCheck(context.Background(), []string{"--config", file}, &out, io.Discard); err == nil {
		t.Fatal("check passed")
	}
	if want := "FAIL  schema registry " + dead + "/: "; !strings.Contains(out.String(), want) ||
		!strings.Contains(out.String(), "fix: start the registry or correct schema_registry.url") {
		t.Errorf("check printed:\n%s\nwant a line %q with its fix", out.String(), want)
	}
}
