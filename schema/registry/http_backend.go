package registry

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	hambareg "github.com/hamba/avro/v2/registry"

	"github.com/walrelay/walrelay/internal/tlsfiles"
)

// HTTPConfig configures an HTTPBackend.
type HTTPConfig struct {
	URL      string // base URL, e.g. https://registry:8081
	Username string // basic auth; "" = none
	Password string
	CAFile   string // PEM bundle to verify the registry's certificate; "" = system roots
	CertFile string // client certificate (mutual TLS), with KeyFile
	KeyFile  string
	Timeout  time.Duration // per request; default 10s
}

// HTTPBackend is a Backend for any Confluent-compatible registry, through
// hamba/avro/v2/registry's client. For Apicurio Registry's ccompat API (a URL
// ending in /apis/ccompat/v6 or /v7) it reads a subject's own level from
// Apicurio's native API (apicurio.go).
type HTTPBackend struct {
	c      *hambareg.Client
	http   *http.Client
	base   *url.URL
	native *url.URL // Apicurio's native artifacts URL; nil for other registries
	cfg    HTTPConfig
}

var _ Backend = (*HTTPBackend)(nil)

// NewHTTPBackend builds the HTTP client (TLS files are read now, so a
// missing or invalid one fails here) and the registry client.
func NewHTTPBackend(cfg HTTPConfig) (*HTTPBackend, error) {
	base, err := url.Parse(cfg.URL)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("schema registry: url %q is not an http(s) URL", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	hc := &http.Client{Transport: tr, Timeout: cfg.Timeout}
	opts := []hambareg.ClientFunc{hambareg.WithHTTPClient(hc)}
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, hambareg.WithBasicAuth(cfg.Username, cfg.Password))
	}
	c, err := hambareg.NewClient(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	if base.Path == "" || base.Path[len(base.Path)-1] != '/' {
		base.Path += "/"
	}
	return &HTTPBackend{c: c, http: hc, base: base, native: apicurioArtifacts(base), cfg: cfg}, nil
}

// tlsConfig loads the registry's TLS files (internal/tlsfiles); errors
// read "schema registry: ca_file PATH: reason".
func tlsConfig(cfg HTTPConfig) (*tls.Config, error) {
	t, err := tlsfiles.Config(cfg.CAFile, cfg.CertFile, cfg.KeyFile, false)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return t, nil
}

// registryCode returns the Confluent error code of err, or 0.
func registryCode(err error) int {
	var e hambareg.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// Lookup implements Backend.
func (h *HTTPBackend) Lookup(ctx context.Context, subject, text string) (int, bool, error) {
	id, _, err := h.c.IsRegistered(ctx, subject, text)
	switch code := registryCode(err); {
	case err == nil:
		return id, true, nil
	case code == CodeSubjectNotFound || code == CodeSchemaNotFound:
		return 0, false, nil
	}
	return 0, false, err
}

// History implements Backend. Each version is read raw with the schemas it
// references (Registered) and parsed with them, so that a version
// registered with references (Debezium's value schemas) is checked against
// as the schema it stands for.
func (h *HTTPBackend) History(ctx context.Context, subject string, all bool) ([]Version, error) {
	versions, err := h.c.GetVersions(ctx, subject)
	if registryCode(err) == CodeSubjectNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !all && len(versions) > 0 {
		versions = versions[len(versions)-1:]
	}
	out := make([]Version, 0, len(versions))
	for _, v := range versions {
		r, a, found, err := h.registered(ctx, subject, strconv.Itoa(v))
		if err == nil && !found {
			err = fmt.Errorf("the registry has no such version")
		}
		if err != nil {
			return nil, fmt.Errorf("version %d: %w", v, err)
		}
		s, err := r.Parse()
		if err != nil {
			return nil, fmt.Errorf("version %d does not parse: %w", v, err)
		}
		out = append(out, Version{Subject: subject, Version: a.Version, ID: a.ID, Text: r.Text, Schema: s,
			References: r.References})
	}
	return out, nil
}

// Latest returns the text of the subject's latest version as the registry
// stores it, properties included, without the schemas it references (see
// LatestRegistered).
func (h *HTTPBackend) Latest(ctx context.Context, subject string) (string, bool, error) {
	r, found, err := h.LatestRegistered(ctx, subject)
	return r.Text, found, err
}

// LatestRegistered returns the subject's latest version as the registry
// stores it, properties included (GET /subjects/{s}/versions/latest, read
// raw: hamba's client would parse it and keep only the canonical form, which
// drops the field properties the encoder reads), with the schemas it
// references, read recursively (GET /subjects/{s}/versions/{v} for each).
// A 404 carrying Confluent's 40401 (no such subject) or 40402 (no such
// version: Apicurio's answer for an unknown subject) means the subject has
// none; any other answer, including a 404 without one of those codes (the
// API hidden behind a proxy), is an error, so that "no schema yet" is never
// a guess. A referenced version that cannot be read, or references that
// form a cycle, are errors too.
func (h *HTTPBackend) LatestRegistered(ctx context.Context, subject string) (Registered, bool, error) {
	r, _, found, err := h.registered(ctx, subject, "latest")
	return r, found, err
}

// SubjectLevel implements Backend with GET /config/{subject}. A registry
// that answers 404 (40401, 40408) has no level for the subject. On Apicurio,
// whose /config/{subject} answers with the global level, the subject's
// artifact rule is read instead (apicurioSubjectLevel).
func (h *HTTPBackend) SubjectLevel(ctx context.Context, subject string) (Level, bool, error) {
	if h.native != nil {
		return h.apicurioSubjectLevel(ctx, subject)
	}
	u := h.base.JoinPath("config", subject)
	status, body, err := h.get(ctx, u, ContentType)
	if err != nil {
		return "", false, err
	}
	if status == http.StatusNotFound {
		return "", false, nil
	}
	if status != http.StatusOK {
		return "", false, fmt.Errorf("GET %s: HTTP %d: %s", u.Redacted(), status, body)
	}
	var cfg struct {
		CompatibilityLevel string `json:"compatibilityLevel"`
		Compatibility      string `json:"compatibility"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil {
		return "", false, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	name := cfg.CompatibilityLevel
	if name == "" {
		name = cfg.Compatibility
	}
	if name == "" {
		return "", false, nil
	}
	l, err := ParseLevel(name)
	return l, err == nil, err
}

// get sends GET u with the backend's credentials and returns the status and
// up to 1 MiB of the body.
func (h *HTTPBackend) get(ctx context.Context, u *url.URL, accept string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", accept)
	if h.cfg.Username != "" || h.cfg.Password != "" {
		req.SetBasicAuth(h.cfg.Username, h.cfg.Password)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	return resp.StatusCode, body, nil
}

// Register implements Backend. A 409 from the registry becomes an
// *IncompatibleError carrying the registry's message.
func (h *HTTPBackend) Register(ctx context.Context, subject, text string) (int, error) {
	id, _, err := h.c.CreateSchema(ctx, subject, text)
	if err != nil {
		var e hambareg.Error
		if errors.As(err, &e) && (e.StatusCode == http.StatusConflict || e.Code == CodeIncompatible) {
			return 0, &IncompatibleError{Subject: subject, Detail: "the registry refused it: " + e.Message}
		}
		return 0, err
	}
	return id, nil
}
