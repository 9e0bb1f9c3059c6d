package registry

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// withColumn is a record schema whose field carries a property, as the
// encoder records a field's column.
const withColumn = `{"type":"record","name":"R","namespace":"ns","fields":[` +
	`{"name":"x_y","type":["null","int"],"default":null,"pg.column":"x-y"}]}`

// TestClientLatest: Latest returns the text of a subject's latest version
// as registered, properties included, from the embedded store and over
// HTTP (where hamba's client would hand back the canonical form without
// them); an unknown subject has none.
func TestClientLatest(t *testing.T) {
	t.Parallel()
	url, ca, store := tlsRegistry(t, Backward)
	hb, err := NewHTTPBackend(HTTPConfig{URL: url, CAFile: ca, Username: "user", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Client{
		"store": NewClient(store, Backward, zerolog.Nop()),
		"http":  NewClient(hb, Backward, zerolog.Nop()),
	} {
		subject := name + "-value"
		if text, found, err := c.Latest(ctx, subject); err != nil || found || text != "" {
			t.Errorf("%s: unknown subject: %q, %v, %v", name, text, found, err)
		}
		for _, v := range []string{rec(`id:"int"`), withColumn} {
			if _, err := c.ID(ctx, subject, v); err != nil {
				t.Fatalf("%s: register: %v", name, err)
			}
		}
		text, found, err := c.Latest(ctx, subject)
		if err != nil || !found || text != withColumn {
			t.Errorf("%s: Latest = %q, %v, %v; want %q", name, text, found, err, withColumn)
		}
	}
}

// TestHTTPBackendLatestAnswers: a 404 with 40401 or 40402 (Apicurio's code
// for an unknown subject) is "none"; a 404 without a Confluent code, a 500
// or a body that is no version is an error naming the URL.
func TestHTTPBackendLatestAnswers(t *testing.T) {
	t.Parallel()
	answers := map[string]struct {
		status int
		body   string
	}{
		"subject": {404, `{"error_code":40401,"message":"Subject 'x' not found."}`},
		"version": {404, `{"message":"No version 'latest' found","error_code":40402}`},
		"proxy":   {404, `<html>Not Found</html>`},
		"down":    {500, `{"error_code":50001,"message":"boom"}`},
		"empty":   {200, `{"id":1}`},
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subject := strings.Split(strings.TrimPrefix(r.URL.Path, "/subjects/"), "/")[0]
		a := answers[subject]
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(ts.Close)
	hb, err := NewHTTPBackend(HTTPConfig{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	for subject := range answers {
		_, found, err := hb.Latest(ctx, subject)
		none := subject == "subject" || subject == "version"
		switch {
		case none && (err != nil || found):
			t.Errorf("%s: found %v, %v; want none", subject, found, err)
		case !none && (err == nil || !strings.Contains(err.Error(), "/subjects/"+subject+"/versions/latest")):
			t.Errorf("%s: error %v; want one naming the URL", subject, err)
		}
	}
}
