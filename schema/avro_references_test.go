package schema

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// sourceSubject is the subject under which Debezium's Avro converter
// registers its Source record and which its value schemas reference.
const sourceSubject = "io.debezium.connector.postgresql.Source"

// refRegistry is a Confluent-API registry holding what Debezium's Avro
// converter leaves: the Source record under its own subject and a table's
// value schema referencing it. It records the schemas registered.
type refRegistry struct {
	get map[string]string // GET path -> 200 body

	mu         sync.Mutex
	registered map[string]string // subject -> schema POSTed to /versions
}

func (f *refRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	notFound := func(code int) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error_code":`+itoa(code)+`,"message":"not found"}`)
	}
	switch {
	case r.Method == http.MethodGet && f.get[r.URL.Path] != "":
		_, _ = io.WriteString(w, f.get[r.URL.Path])
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/config/"):
		notFound(40408)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/versions"):
		var body struct{ Schema string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		subject := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/subjects/"), "/versions")
		f.mu.Lock()
		f.registered[subject] = body.Schema
		f.mu.Unlock()
		_, _ = io.WriteString(w, `{"id":`+itoa(100+len(subject))+`}`)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "-value"):
		notFound(40403) // the subject exists, the schema is new to it
	default:
		notFound(40401)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// debeziumValue returns the value schema of rel as Debezium's Avro
// converter registers it: walrelay's own (with the given prior names), its
// Source record replaced by a reference to sourceSubject; and that record.
func debeziumValue(t *testing.T, ta *testAvro, rel *event.Relation, pf priorFields) (value, source string) {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(ta.enc.buildPlan(rel, "app.public.t", pf).valueSchema), &env); err != nil {
		t.Fatal(err)
	}
	for _, f := range env["fields"].([]any) {
		if f := f.(map[string]any); f["name"] == "source" {
			b, _ := json.Marshal(f["type"])
			source, f["type"] = string(b), sourceSubject
		}
	}
	b, _ := json.Marshal(env)
	return string(b), source
}

// TestAvroLatestWithReferences: a value subject whose latest version
// references Debezium's Source record in another subject (a migration from
// Debezium on its topics) is read with the reference resolved: the table's
// columns keep the field names that version gives them, walrelay's own
// compatibility check runs against it, and walrelay registers its inline
// schema as the next version instead of halting on "unknown type".
func TestAvroLatestWithReferences(t *testing.T) {
	t.Parallel()
	ta := newTestAvro(t, registry.Backward)
	// Registered by "Debezium": "x-y" is field x_y, where a new subject
	// would name the new column x_y so and "x-y" x_y_2.
	value, source := debeziumValue(t, ta, xyRel(1, colXY), prior(false, "id", "x_y=x-y"))
	refs := `[{"name":"` + sourceSubject + `","subject":"` + sourceSubject + `","version":1}]`
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	f := &refRegistry{registered: map[string]string{}, get: map[string]string{
		"/subjects/" + sourceSubject + "/versions/1":   `{"id":1,"version":1,"schema":` + q(source) + `}`,
		"/subjects/app.public.t-value/versions":        `[1]`,
		"/subjects/app.public.t-value/versions/1":      `{"id":2,"version":1,"schema":` + q(value) + `,"references":` + refs + `}`,
		"/subjects/app.public.t-value/versions/latest": `{"id":2,"version":1,"schema":` + q(value) + `,"references":` + refs + `}`,
	}}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	hb, err := registry.NewHTTPBackend(registry.HTTPConfig{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewAvro(testOptions(), AvroOptions{Registry: registry.NewClient(hb, registry.Backward, zerolog.Nop())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(change(event.OpCreate, xyRel(2, colXY, colX_Y), nil, []any{int32(1), int32(11), int32(22)})); err != nil {
		t.Fatalf("Encode over a subject whose latest version has references: %v", err)
	}
	got := f.registered["app.public.t-value"]
	for _, want := range []string{`{"name":"x_y","type":["null","int"],"default":null,"pg.column":"x-y"}`,
		`{"name":"x_y_2","type":["null","int"],"default":null,"pg.column":"x_y"}`, `"name":"Source"`} {
		if !strings.Contains(got, want) {
			t.Errorf("registered value schema %s\nlacks %s", got, want)
		}
	}
}
