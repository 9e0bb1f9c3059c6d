package registry

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
)

// countingBackend counts the calls that reach a real Store.
type countingBackend struct {
	*Store
	calls atomic.Int32
}

func (c *countingBackend) Lookup(ctx context.Context, subject, text string) (int, bool, error) {
	c.calls.Add(1)
	return c.Store.Lookup(ctx, subject, text)
}

func (c *countingBackend) Register(ctx context.Context, subject, text string) (int, error) {
	c.calls.Add(1)
	return c.Store.Register(ctx, subject, text)
}

// TestClientCache: a schema costs backend calls once; after that ID is
// served from the subject+fingerprint cache, whatever the text's layout.
func TestClientCache(t *testing.T) {
	t.Parallel()
	b := &countingBackend{Store: openStore(t, t.TempDir(), Backward)}
	c := NewClient(b, Backward, zerolog.Nop())
	text := rec(`id:"int"`)
	id, err := c.ID(ctx, "s-value", text)
	if err != nil || id != 1 {
		t.Fatalf("ID = %d, %v", id, err)
	}
	calls := b.calls.Load()
	for range 3 {
		if id2, err := c.ID(ctx, "s-value", strings.ReplaceAll(text, ",", ", ")); err != nil || id2 != id {
			t.Fatalf("cached ID = %d, %v", id2, err)
		}
	}
	if b.calls.Load() != calls {
		t.Errorf("%d backend calls for cached IDs", b.calls.Load()-calls)
	}
	// Another subject is another cache entry (and the same global ID).
	if id2, err := c.ID(ctx, "t-value", text); err != nil || id2 != id || b.calls.Load() == calls {
		t.Errorf("other subject: id %d, %v, calls %d", id2, err, b.calls.Load()-calls)
	}
}

// tlsRegistry serves a Store over HTTPS behind basic auth (user/secret),
// the way an external registry is reached, and returns the URL and a CA
// file for it.
func tlsRegistry(t *testing.T, level Level) (url, caFile string, store *Store) {
	t.Helper()
	store = openStore(t, t.TempDir(), level)
	srv := NewServer(store, zerolog.Nop())
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
			writeError(w, &Error{Status: http.StatusUnauthorized, Code: 40101, Message: "Unauthorized"})
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return ts.URL, caFile, store
}

// TestClientHTTP: the Client over an external registry (HTTPS, CA file,
// basic auth): registers, finds what is registered, checks compatibility
// in-process with the subject's own level, and reports a registry's 409.
func TestClientHTTP(t *testing.T) {
	t.Parallel()
	url, ca, store := tlsRegistry(t, Backward)
	newClient := func(level Level, password string) *Client {
		b, err := NewHTTPBackend(HTTPConfig{URL: url, CAFile: ca, Username: "user", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		return NewClient(b, level, zerolog.Nop())
	}
	c := newClient(Backward, "secret")
	v1, v2 := rec(`id:"int"`), rec(`id:"int"`, `a?:"string"`)
	id1, err := c.ID(ctx, "s-value", v1)
	if err != nil {
		t.Fatalf("register over HTTPS: %v", err)
	}
	id2, err := c.ID(ctx, "s-value", v2)
	if err != nil || id2 == id1 {
		t.Fatalf("second version: %d, %v", id2, err)
	}
	// A new process (empty cache) finds the registered schema by lookup.
	if id, err := newClient(Backward, "secret").ID(ctx, "s-value", v1); err != nil || id != id1 {
		t.Errorf("lookup: %d, %v", id, err)
	}
	// In-process check, with problems named.
	_, err = c.ID(ctx, "s-value", rec(`id:"string"`))
	var ie *IncompatibleError
	if !errors.As(err, &ie) || ie.Level != Backward || len(ie.Problems) != 1 || ie.Problems[0].Path[0] != "id" {
		t.Fatalf("incompatible: %v", err)
	}
	// The subject's own level in the registry wins over the configured one.
	if err := store.SetSubjectLevel("s-value", None); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ID(ctx, "s-value", rec(`id:"string"`)); err != nil {
		t.Errorf("with subject level NONE: %v", err)
	}
	// The registry enforces its own level even when walrelay checks nothing.
	if _, err := newClient(None, "secret").ID(ctx, "u-value", v1); err != nil {
		t.Fatal(err)
	}
	_, err = newClient(None, "secret").ID(ctx, "u-value", rec(`id:"string"`))
	if !errors.As(err, &ie) || !strings.Contains(ie.Detail, "incompatible") {
		t.Errorf("registry 409: %v", err)
	}
	// Wrong credentials fail loudly.
	if _, err := newClient(Backward, "wrong").ID(ctx, "v-value", v1); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("wrong password: %v", err)
	}
}

// TestHTTPBackendConfig: unusable URLs and TLS files fail at construction.
func TestHTTPBackendConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []HTTPConfig{
		{URL: "registry:8081"},
		{URL: "ftp://registry"},
		{URL: "https://registry", CAFile: filepath.Join(t.TempDir(), "missing.pem")},
		{URL: "https://registry", CertFile: "x.pem"},
	} {
		if _, err := NewHTTPBackend(cfg); err == nil {
			t.Errorf("NewHTTPBackend(%+v) accepted", cfg)
		}
	}
}
