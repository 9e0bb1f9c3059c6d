package registry

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// refVersion is a GET /subjects/{s}/versions/{v} answer with references.
func refVersion(t *testing.T, id int, schema string, refs ...Reference) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": id, "version": 1, "schema": schema, "references": refs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refsServer answers GETs from answers (path -> 200 body), 40401 for other
// paths and subjects' levels, and 422 with Apicurio 2.4's message to any
// registration, as it does against a version with references.
func refsServer(t *testing.T, answers map[string]string) *HTTPBackend {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch body, ok := answers[r.URL.Path]; {
		case r.Method == http.MethodGet && ok:
			_, _ = io.WriteString(w, body)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/versions"):
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"message":"Could not execute compatibility rule on invalid Avro schema","error_code":0}`)
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error_code":40403,"message":"Schema not found"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error_code":40401,"message":"Subject not found"}`)
		}
	}))
	t.Cleanup(ts.Close)
	hb, err := NewHTTPBackend(HTTPConfig{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return hb
}

// TestHTTPBackendReferences: a version registered with schema references is
// read with the schemas it references, recursively, each once and after
// those it references itself, and parses with them (Latest's and History's
// versions alike); a cycle or a missing referenced version is an error
// naming it. A registration the registry refuses after walrelay's own check
// passed against a version with references says so.
func TestHTTPBackendReferences(t *testing.T) {
	t.Parallel()
	ref := func(name string) Reference { return Reference{Name: "ns." + name, Subject: "ns." + name, Version: 1} }
	const (
		c     = `{"type":"record","name":"C","namespace":"ns","fields":[{"name":"c","type":"int"}]}`
		a     = `{"type":"record","name":"A","namespace":"ns","fields":[{"name":"c","type":"ns.C"}]}`
		b     = `{"type":"record","name":"B","namespace":"ns","fields":[{"name":"c","type":"ns.C"}]}`
		value = `{"type":"record","name":"V","namespace":"ns","fields":[{"name":"a","type":"ns.A"},{"name":"b","type":"ns.B"}]}`
		x     = `{"type":"record","name":"X","namespace":"ns","fields":[{"name":"y","type":["null","ns.Y"]}]}`
		y     = `{"type":"record","name":"Y","namespace":"ns","fields":[{"name":"x","type":["null","ns.X"]}]}`
	)
	hb := refsServer(t, map[string]string{
		"/subjects/ns.C/versions/1":            refVersion(t, 1, c),
		"/subjects/ns.A/versions/1":            refVersion(t, 2, a, ref("C")),
		"/subjects/ns.B/versions/1":            refVersion(t, 3, b, ref("C")),
		"/subjects/v-value/versions":           `[1]`,
		"/subjects/v-value/versions/1":         refVersion(t, 4, value, ref("A"), ref("B")),
		"/subjects/v-value/versions/latest":    refVersion(t, 4, value, ref("A"), ref("B")),
		"/subjects/ns.X/versions/1":            refVersion(t, 5, x, ref("Y")),
		"/subjects/ns.Y/versions/1":            refVersion(t, 6, y, ref("X")),
		"/subjects/cyc-value/versions/latest":  refVersion(t, 7, value, ref("X")),
		"/subjects/gone-value/versions/latest": refVersion(t, 8, value, ref("Gone")),
	})
	r, found, err := hb.LatestRegistered(ctx, "v-value")
	if err != nil || !found {
		t.Fatalf("LatestRegistered: %v, %v", found, err)
	}
	var order []string
	for _, s := range r.Refs {
		order = append(order, s.Subject)
	}
	if strings.Join(order, " ") != "ns.C ns.A ns.B" || r.Text != value {
		t.Errorf("references read in order %q, text %s", order, r.Text)
	}
	if s, err := r.Parse(); err != nil || !strings.Contains(s.String(), `"name":"ns.C"`) {
		t.Errorf("Parse: %v, %v", s, err)
	}
	if _, err := Parse(value); err == nil {
		t.Error("the referencing text alone parses; the test proves nothing")
	}
	vs, err := hb.History(ctx, "v-value", true)
	if err != nil || len(vs) != 1 || vs[0].Schema == nil || len(vs[0].References) != 2 {
		t.Fatalf("History: %+v, %v", vs, err)
	}
	for subject, want := range map[string]string{"cyc-value": "cycle", "gone-value": `"ns.Gone"`} {
		if _, _, err := hb.LatestRegistered(ctx, subject); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one with %s", subject, err, want)
		}
	}
	client := NewClient(hb, Backward, zerolog.Nop())
	next := `{"type":"record","name":"V","namespace":"ns","fields":[{"name":"a","type":` + strings.Replace(a, `"ns.C"`, c, 1) +
		`},{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"c","type":"ns.C"}]}}]}`
	if _, err := client.ID(ctx, "v-value", next); err == nil ||
		!strings.Contains(err.Error(), "BACKWARD-compatible") || !strings.Contains(err.Error(), `references to "ns.A"`) {
		t.Errorf("registration refused by the registry: %v", err)
	}
}

// TestServerRefusesReferences: the embedded registry stores self-contained
// schemas only; a registration, lookup or compatibility check with
// references is refused as invalid (422, 42201), saying so and what to do,
// and registers nothing.
func TestServerRefusesReferences(t *testing.T) {
	t.Parallel()
	srv, store := startServer(t, Backward)
	body := `{"schema":"{\"type\":\"record\",\"name\":\"V\",\"fields\":[{\"name\":\"s\",\"type\":\"ns.S\"}]}",` +
		`"references":[{"name":"ns.S","subject":"ns.S","version":1}]}`
	for _, path := range []string{"/subjects/v-value/versions", "/subjects/v-value", "/compatibility/subjects/v-value/versions/latest"} {
		status, got := call(t, http.MethodPost, srv.URL()+path, body)
		if status != http.StatusUnprocessableEntity || !strings.Contains(got, `"error_code":42201`) ||
			!strings.Contains(got, "references are not supported by walrelay's embedded registry") {
			t.Errorf("POST %s: %d %s", path, status, got)
		}
	}
	if subjects := store.Subjects(); len(subjects) != 0 {
		t.Errorf("subjects %v after refused registrations", subjects)
	}
}
