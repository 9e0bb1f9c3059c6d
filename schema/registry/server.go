package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// ContentType is the Confluent registry's media type, on every response.
const ContentType = "application/vnd.schemaregistry.v1+json"

// maxBody bounds a request body (a schema to register or check).
const maxBody = 16 << 20

// Server serves a Store over HTTP with the Confluent REST subset listed in
// the package doc, so any Confluent deserializer can read walrelay's topics.
type Server struct {
	store *Store
	log   zerolog.Logger
	srv   *http.Server
	ln    net.Listener
	done  chan error
}

// NewServer returns a server for store; Start makes it listen.
func NewServer(store *Store, log zerolog.Logger) *Server {
	s := &Server{store: store, log: log}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return s
}

// Start listens on addr (host:port; port 0 picks a free one) and serves in a
// goroutine. A failure to listen (address in use) is returned at once.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("schema registry: listen on %s (schema_registry.listen): %w", addr, err)
	}
	s.ln = ln
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	s.log.Info().Str("listen", ln.Addr().String()).Msg("embedded schema registry serving")
	return nil
}

// Addr is the address the server listens on (after Start).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the base URL consumers use (after Start).
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close stops the server, waiting for requests in progress until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if e := <-s.done; err == nil && !errors.Is(e, http.ErrServerClosed) {
		err = e
	}
	return err
}

// ServeHTTP routes a request. Paths are split on '/' before unescaping, so a
// subject may contain an escaped '/'.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, &Error{Status: http.StatusNotFound, Code: codeNotFoundRoute, Message: "HTTP 404 Not Found"})
		return
	}
	h, ok := s.route(r.Method, parts)
	if h == nil {
		if ok {
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
				Message: "HTTP 405 Method Not Allowed"})
			return
		}
		writeError(w, &Error{Status: http.StatusNotFound, Code: codeNotFoundRoute, Message: "HTTP 404 Not Found"})
		return
	}
	h(w, r)
}

// route returns the handler of method on the path; when h is nil, known
// reports whether the path exists with another method.
func (s *Server) route(method string, p []string) (h http.HandlerFunc, known bool) {
	m := func(want string, f http.HandlerFunc) (http.HandlerFunc, bool) {
		if method == want || (want == http.MethodGet && method == http.MethodHead) {
			return f, true
		}
		return nil, true
	}
	switch {
	case len(p) == 0:
		return m(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, struct{}{}) })
	case len(p) == 2 && p[0] == "schemas" && p[1] == "types":
		return m(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, []string{"AVRO"}) })
	case len(p) == 3 && p[0] == "schemas" && p[1] == "ids":
		return m(http.MethodGet, func(w http.ResponseWriter, r *http.Request) { s.getSchemaByID(w, p[2], false) })
	case len(p) == 4 && p[0] == "schemas" && p[1] == "ids" && p[3] == "schema":
		return m(http.MethodGet, func(w http.ResponseWriter, r *http.Request) { s.getSchemaByID(w, p[2], true) })
	case len(p) == 1 && p[0] == "subjects":
		return m(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.store.Subjects()) })
	case len(p) == 2 && p[0] == "subjects":
		return m(http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.lookup(w, r, p[1]) })
	case len(p) == 3 && p[0] == "subjects" && p[2] == "versions":
		if method == http.MethodPost {
			return func(w http.ResponseWriter, r *http.Request) { s.register(w, r, p[1]) }, true
		}
		return m(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { s.versions(w, p[1]) })
	case len(p) == 4 && p[0] == "subjects" && p[2] == "versions":
		return m(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { s.version(w, p[1], p[3], false) })
	case len(p) == 5 && p[0] == "subjects" && p[2] == "versions" && p[4] == "schema":
		return m(http.MethodGet, func(w http.ResponseWriter, _ *http.Request) { s.version(w, p[1], p[3], true) })
	case len(p) == 1 && p[0] == "config":
		return s.routeConfig(method, "")
	case len(p) == 2 && p[0] == "config":
		return s.routeConfig(method, p[1])
	case len(p) == 4 && p[0] == "compatibility" && p[1] == "subjects" && p[3] == "versions":
		return m(http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.compatibility(w, r, p[2], "") })
	case len(p) == 5 && p[0] == "compatibility" && p[1] == "subjects" && p[3] == "versions":
		return m(http.MethodPost, func(w http.ResponseWriter, r *http.Request) { s.compatibility(w, r, p[2], p[4]) })
	}
	return nil, false
}

func (s *Server) routeConfig(method, subject string) (http.HandlerFunc, bool) {
	switch method {
	case http.MethodGet, http.MethodHead:
		return func(w http.ResponseWriter, r *http.Request) { s.getConfig(w, r, subject) }, true
	case http.MethodPut:
		return func(w http.ResponseWriter, r *http.Request) { s.putConfig(w, r, subject) }, true
	case http.MethodDelete:
		if subject != "" {
			return func(w http.ResponseWriter, r *http.Request) { s.deleteConfig(w, subject) }, true
		}
	}
	return nil, true
}

// splitPath splits an escaped path into unescaped segments, ignoring a
// trailing slash.
func splitPath(escaped string) ([]string, error) {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil, nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		u, err := unescape(p)
		if err != nil {
			return nil, err
		}
		parts[i] = u
	}
	return parts, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error_code":50001,"message":"Error in the backend data store"}`)
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeRaw writes a schema text as the body, for the /schema endpoints.
func writeRaw(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(text))
}

// writeError writes err as Confluent does: an *Error as it is, anything
// else as 500 / 50001.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Error in the backend data store: " + err.Error()}
	}
	writeJSON(w, e.Status, e)
}
