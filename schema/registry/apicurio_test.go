package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

const (
	fakeCcompat = "/apis/ccompat/v7"
	fakeNative  = "/apis/registry/v2/groups/default/artifacts/"
)

// fakeApicurio behaves as Apicurio Registry 2.4 does where it differs from
// Confluent (checked against a running one): its ccompat GET /config/{s}
// answers 200 with the global level (NONE) for an existing subject without a
// level of its own, whatever ?defaultToGlobal says; a ccompat PUT of a level
// sets the artifact's COMPATIBILITY rule, a PUT of NONE deletes it; the
// native API serves the rule, 404 RuleNotFoundException without one and 404
// ArtifactNotFoundException for an unknown subject. The rest of ccompat is a
// Store (global level NONE) behind a Server.
type fakeApicurio struct {
	t     *testing.T
	store *Store
	srv   *Server

	mu         sync.Mutex
	rules      map[string]Level
	hideNative bool // a proxy that passes ccompat only: HTML 404 on the native API
}

func newFakeApicurio(t *testing.T) (*fakeApicurio, string) {
	store := openStore(t, t.TempDir(), None)
	f := &fakeApicurio{t: t, store: store, srv: NewServer(store, zerolog.Nop()), rules: map[string]Level{}}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, ts.URL + fakeCcompat
}

func (f *fakeApicurio) setRule(subject string, l Level) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l == "" {
		delete(f.rules, subject)
	} else {
		f.rules[subject] = l
	}
}

func (f *fakeApicurio) exists(subject string) bool {
	_, err := f.store.Versions(subject)
	return err == nil
}

func (f *fakeApicurio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, fakeNative):
		f.native(w, r, strings.TrimPrefix(p, fakeNative))
	case strings.HasPrefix(p, fakeCcompat+"/config/"):
		f.config(w, r, strings.TrimPrefix(p, fakeCcompat+"/config/"))
	case strings.HasPrefix(p, fakeCcompat+"/"):
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = strings.TrimPrefix(p, fakeCcompat), ""
		f.srv.ServeHTTP(w, r2)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeApicurio) native(w http.ResponseWriter, r *http.Request, rest string) {
	subject, ok := strings.CutSuffix(rest, "/rules/COMPATIBILITY")
	if f.hideNative || !ok || r.Method != http.MethodGet {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html>Not Found</html>"))
		return
	}
	notFound := func(name string) {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"error_code": 404, "name": name, "message": "not found"})
	}
	if !f.exists(subject) {
		notFound("ArtifactNotFoundException")
		return
	}
	l, ok := f.rules[subject]
	if !ok {
		notFound("RuleNotFoundException")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"type": "COMPATIBILITY", "config": string(l)})
}

func (f *fakeApicurio) config(w http.ResponseWriter, r *http.Request, subject string) {
	if !f.exists(subject) {
		writeError(w, errSubjectNotFound(subject))
		return
	}
	switch r.Method {
	case http.MethodGet:
		l, ok := f.rules[subject]
		if !ok {
			l = None // the global level, as if it were the subject's
		}
		writeJSON(w, http.StatusOK, map[string]string{"compatibilityLevel": string(l)})
	case http.MethodPut:
		var body struct{ Compatibility string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("fake Apicurio: PUT /config/%s: %v", subject, err)
		}
		if l := Level(body.Compatibility); l == None {
			delete(f.rules, subject)
		} else {
			f.rules[subject] = l
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// TestApicurioSubjectLevel: against Apicurio's ccompat API, a subject
// without a rule of its own is checked with the configured level (BACKWARD)
// although /config/{subject} says NONE; the artifact's rule, when there is
// one, wins; a ccompat PUT of NONE removes the rule (so the configured level
// applies again); and an unreadable native API is an error, not a guess.
func TestApicurioSubjectLevel(t *testing.T) {
	t.Parallel()
	f, url := newFakeApicurio(t)
	b, err := NewHTTPBackend(HTTPConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	c := NewClient(b, Backward, zerolog.New(&logBuf))
	if !strings.Contains(logBuf.String(), "Apicurio artifact rule") {
		t.Errorf("start-up log does not name the level source: %s", logBuf.String())
	}
	const s = "t1-value"
	v1, v2 := rec(`id:"int"`, `v?:"long"`), rec(`id:"int"`, `v?:"string"`)
	if _, err := c.ID(ctx, s, v1); err != nil {
		t.Fatalf("first version: %v", err)
	}
	if l, ok, err := b.SubjectLevel(ctx, s); err != nil || ok {
		t.Errorf("SubjectLevel with no rule = %q, %v, %v; want none", l, ok, err)
	}
	var ie *IncompatibleError
	if _, err := c.ID(ctx, s, v2); !errors.As(err, &ie) || ie.Level != Backward {
		t.Fatalf("bigint -> text with no subject rule: %v, want refused as BACKWARD", err)
	}

	f.setRule(s, Full)
	if l, ok, err := b.SubjectLevel(ctx, s); err != nil || !ok || l != Full {
		t.Errorf("SubjectLevel with rule FULL = %q, %v, %v", l, ok, err)
	}
	if _, err := c.ID(ctx, s, v2); !errors.As(err, &ie) || ie.Level != Full {
		t.Errorf("with rule FULL: %v", err)
	}
	// The Apicurio relax command's effect: the subject's own rule is NONE.
	f.setRule(s, None)
	if _, err := c.ID(ctx, s, v2); err != nil {
		t.Fatalf("with rule NONE: %v", err)
	}

	// A ccompat PUT of NONE deletes the rule: the configured level is back.
	status, err := putJSON(url+"/config/"+s, `{"compatibility":"NONE"}`)
	if err != nil || status != http.StatusOK {
		t.Fatalf("PUT /config: %d %v", status, err)
	}
	if _, ok, _ := b.SubjectLevel(ctx, s); ok {
		t.Error("a ccompat PUT NONE left a level of the subject's own")
	}
	if _, err := c.ID(ctx, s, rec(`id:"int"`, `v?:"int"`)); !errors.As(err, &ie) || ie.Level != Backward {
		t.Errorf("after ccompat PUT NONE: %v, want refused as BACKWARD", err)
	}

	// An unknown subject has no level; a native API hidden behind a proxy
	// is an error naming it.
	if _, ok, err := b.SubjectLevel(ctx, "unknown-value"); ok || err != nil {
		t.Errorf("unknown subject: %v, %v", ok, err)
	}
	f.mu.Lock()
	f.hideNative = true
	f.mu.Unlock()
	if _, err := c.ID(ctx, "new-value", v1); err == nil || !strings.Contains(err.Error(), "native API") {
		t.Errorf("hidden native API: %v", err)
	}
}

func putJSON(u, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestApicurioURL: which base URLs are Apicurio's ccompat API, and where
// their native API is.
func TestApicurioURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://h:8080/apis/ccompat/v7":         "http://h:8080/apis/registry/v2/groups/default/artifacts/",
		"https://u:p@h/proxy/apis/ccompat/v6/":  "https://u:p@h/proxy/apis/registry/v2/groups/default/artifacts/",
		"http://h:8081":                         "",
		"http://h:8081/":                        "",
		"http://h/apis/ccompat/v5":              "",
		"http://h/apis/ccompat/v7/extra":        "",
		"http://h/apis/ccompat/v7?x=1":          "http://h/apis/registry/v2/groups/default/artifacts/",
		"http://h/confluent/apis/ccompat/v7/ab": "",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if n := apicurioArtifacts(u); n != nil {
			got = n.String()
		}
		if got != want {
			t.Errorf("apicurioArtifacts(%s) = %q, want %q", in, got, want)
		}
	}
	b, err := NewHTTPBackend(HTTPConfig{URL: "http://h:8081"})
	if err != nil || !strings.HasPrefix(b.LevelSource(), "GET /config/") {
		t.Errorf("Confluent level source: %v %v", b, err)
	}
}

// TestRelaxCommand: Confluent's PUT /config for most registries; Apicurio's
// native rule (a ccompat PUT of NONE would delete the rule instead), whose
// DELETE of a rule that may not exist prints nothing (its 404 is harmless).
func TestRelaxCommand(t *testing.T) {
	t.Parallel()
	got := RelaxCommand("http://reg:8081/", "p.public.t-value")
	want := `curl -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data '{"compatibility":"NONE"}' ` +
		`http://reg:8081/config/p.public.t-value`
	if got != want {
		t.Errorf("Confluent:\n got %s\nwant %s", got, want)
	}
	got = RelaxCommand("http://reg:8080/apis/ccompat/v7", "p.public.t-value")
	rules := "http://reg:8080/apis/registry/v2/groups/default/artifacts/p.public.t-value/rules"
	want = "curl -s -o /dev/null -X DELETE " + rules + "/COMPATIBILITY; curl -X POST -H 'Content-Type: application/json' " +
		`--data '{"type":"COMPATIBILITY","config":"NONE"}' ` + rules
	if got != want {
		t.Errorf("Apicurio:\n got %s\nwant %s", got, want)
	}
}
