package registry

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// startServer serves a fresh store on a free port; t's cleanup stops it.
func startServer(t *testing.T, level Level) (*Server, *Store) {
	t.Helper()
	store := openStore(t, t.TempDir(), level)
	srv := NewServer(store, zerolog.Nop())
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv, store
}

// call makes a request and returns the status and the body; it checks the
// content type of every response.
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("%s %s: content type %q", method, url, ct)
	}
	return resp.StatusCode, string(b)
}

func schemaBody(text string) string {
	b, _ := json.Marshal(map[string]string{"schema": text})
	return string(b)
}

// TestServerREST: each endpoint answers as Confluent's registry does,
// status codes and error bodies included.
func TestServerREST(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t, Backward)
	u := srv.URL()
	v1, v2 := rec(`id:"int"`), rec(`id:"int"`, `a?:"string"`)
	v1JSON, _ := json.Marshal(v1)
	v2JSON, _ := json.Marshal(v2)
	steps := []struct {
		method, path, body string
		status             int
		want               string // the exact body, or a prefix when it ends in "…"
	}{
		{"GET", "/subjects", "", 200, `[]`},
		{"POST", "/subjects/s-value/versions", schemaBody(v1), 200, `{"id":1}`},
		{"POST", "/subjects/s-value/versions", schemaBody(v2), 200, `{"id":2}`},
		{"POST", "/subjects/s-value/versions", schemaBody(v1), 200, `{"id":1}`},
		{"POST", "/subjects/s-value/versions", schemaBody(rec(`id:"string"`)), 409,
			`{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"s-value\", details: …`},
		{"POST", "/subjects/s-value/versions", schemaBody(`{"type":"nope"}`), 422, `{"error_code":42201,"message":"Invalid schema: …`},
		{"POST", "/subjects/s-value/versions", `{"schema":"\"int\"","schemaType":"PROTOBUF"}`, 422, `{"error_code":42201,…`},
		{"GET", "/subjects", "", 200, `["s-value"]`},
		{"GET", "/subjects/s-value/versions", "", 200, `[1,2]`},
		{"GET", "/subjects/nope/versions", "", 404, `{"error_code":40401,"message":"Subject 'nope' not found."}`},
		{"GET", "/subjects/s-value/versions/1", "", 200, `{"subject":"s-value","version":1,"id":1,"schema":` + string(v1JSON) + `}`},
		{"GET", "/subjects/s-value/versions/latest", "", 200, `{"subject":"s-value","version":2,"id":2,"schema":` + string(v2JSON) + `}`},
		{"GET", "/subjects/s-value/versions/-1/schema", "", 200, v2},
		{"GET", "/subjects/s-value/versions/3", "", 404, `{"error_code":40402,"message":"Version 3 not found."}`},
		{"GET", "/subjects/nope/versions/1", "", 404, `{"error_code":40401,"message":"Subject 'nope' not found."}`},
		{"GET", "/subjects/s-value/versions/0", "", 422, `{"error_code":42202,"message":"The specified version '0' is not a valid version id. …`},
		{"GET", "/subjects/s-value/versions/x", "", 422, `{"error_code":42202,…`},
		{"GET", "/schemas/ids/2", "", 200, `{"schema":` + string(v2JSON) + `}`},
		{"GET", "/schemas/ids/2/schema", "", 200, v2},
		{"GET", "/schemas/ids/99", "", 404, `{"error_code":40403,"message":"Schema 99 not found"}`},
		{"GET", "/schemas/types", "", 200, `["AVRO"]`},
		{"POST", "/subjects/s-value", schemaBody(v1), 200, `{"subject":"s-value","version":1,"id":1,"schema":` + string(v1JSON) + `}`},
		{"POST", "/subjects/s-value", schemaBody(rec(`id:"long"`)), 404, `{"error_code":40403,"message":"Schema not found"}`},
		{"POST", "/subjects/nope", schemaBody(v1), 404, `{"error_code":40401,"message":"Subject 'nope' not found."}`},
		{"GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"GET", "/config/s-value", "", 404, `{"error_code":40408,"message":"Subject 's-value' does not have subject-level compatibility configured"}`},
		{"GET", "/config/s-value?defaultToGlobal=true", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"PUT", "/config/s-value", `{"compatibility":"sideways"}`, 422, `{"error_code":42203,…`},
		{"POST", "/compatibility/subjects/s-value/versions/latest", schemaBody(rec(`id:"string"`)), 200, `{"is_compatible":false}`},
		{"POST", "/compatibility/subjects/s-value/versions/1?verbose=true", schemaBody(rec(`id:"long"`)), 200,
			`{"is_compatible":true,"messages":[]}`},
		{"POST", "/compatibility/subjects/s-value/versions/7", schemaBody(v1), 404, `{"error_code":40402,…`},
		{"POST", "/compatibility/subjects/nope/versions/latest", schemaBody(v1), 404, `{"error_code":40401,…`},
		{"POST", "/compatibility/subjects/nope/versions", schemaBody(v1), 200, `{"is_compatible":true}`},
		{"PUT", "/config/s-value", `{"compatibility":"NONE"}`, 200, `{"compatibility":"NONE"}`},
		{"GET", "/config/s-value", "", 200, `{"compatibilityLevel":"NONE"}`},
		{"POST", "/compatibility/subjects/s-value/versions/latest", schemaBody(rec(`id:"string"`)), 200, `{"is_compatible":true}`},
		{"POST", "/subjects/s-value/versions", schemaBody(rec(`id:"string"`)), 200, `{"id":3}`},
		{"DELETE", "/config/s-value", "", 200, `{"compatibilityLevel":"NONE"}`},
		{"DELETE", "/config/s-value", "", 404, `{"error_code":40408,…`},
		{"PUT", "/config", `{"compatibility":"full"}`, 200, `{"compatibility":"FULL"}`},
		{"GET", "/config", "", 200, `{"compatibilityLevel":"FULL"}`},
		{"GET", "/nowhere", "", 404, `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{"DELETE", "/subjects/s-value/versions", "", 405, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{"GET", "/", "", 200, `{}`},
	}
	for _, s := range steps {
		status, body := call(t, s.method, u+s.path, s.body)
		ok := body == s.want
		if prefix, cut := strings.CutSuffix(s.want, "…"); cut {
			ok = strings.HasPrefix(body, prefix)
		}
		if status != s.status || !ok {
			t.Errorf("%s %s: %d %s\n want %d %s", s.method, s.path, status, body, s.status, s.want)
		}
	}
}

// TestServerEscapedSubject: a subject with '/' and spaces, escaped in the path.
func TestServerEscapedSubject(t *testing.T) {
	t.Parallel()
	srv, store := startServer(t, Backward)
	if status, body := call(t, "POST", srv.URL()+"/subjects/a%2Fb%20c/versions", schemaBody(`"string"`)); status != 200 {
		t.Fatalf("register: %d %s", status, body)
	}
	if got := store.Subjects(); len(got) != 1 || got[0] != "a/b c" {
		t.Errorf("subjects %q", got)
	}
}

// TestServerPortInUse: a second server on the same address fails at Start.
func TestServerPortInUse(t *testing.T) {
	t.Parallel()
	srv, store := startServer(t, Backward)
	err := NewServer(store, zerolog.Nop()).Start(srv.Addr())
	if err == nil || !strings.Contains(err.Error(), "schema_registry.listen") {
		t.Errorf("second Start: %v", err)
	}
}
