package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

func unescape(s string) (string, error) { return url.PathUnescape(s) }

func (s *Server) getSchemaByID(w http.ResponseWriter, idStr string, raw bool) {
	id, err := strconv.Atoi(idStr)
	if err != nil {
		writeError(w, &Error{Status: http.StatusNotFound, Code: codeNotFoundRoute, Message: "HTTP 404 Not Found"})
		return
	}
	text, err := s.store.SchemaByID(id)
	if err != nil {
		writeError(w, err)
		return
	}
	if raw {
		writeRaw(w, text)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"schema": text})
}

func (s *Server) versions(w http.ResponseWriter, subject string) {
	vs, err := s.store.Versions(subject)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

// parseVersion parses {version}: "latest", -1, or 1..2^31-1.
func parseVersion(v string) (int, error) {
	if v == "latest" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n == 0 || n < -1 {
		return 0, errInvalidVersion(v)
	}
	return int(n), nil
}

type versionBody struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	Schema  string `json:"schema"`
}

func (s *Server) version(w http.ResponseWriter, subject, vStr string, raw bool) {
	v, err := parseVersion(vStr)
	if err == nil {
		var ver Version
		if ver, err = s.store.Version(subject, v); err == nil {
			if raw {
				writeRaw(w, ver.Text)
				return
			}
			writeJSON(w, http.StatusOK, versionBody{Subject: subject, Version: ver.Version, ID: ver.ID, Schema: ver.Text})
			return
		}
	}
	writeError(w, err)
}

// schemaRequest is the body of register, lookup and compatibility calls.
type schemaRequest struct {
	Schema     string          `json:"schema"`
	SchemaType string          `json:"schemaType"`
	References json.RawMessage `json:"references"`
}

// readSchema decodes a schema request body, rejecting other schema types
// and references (this registry stores self-contained Avro schemas only).
func readSchema(r *http.Request) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return "", &Error{Status: http.StatusBadRequest, Code: codeBadRequest, Message: "cannot read request body: " + err.Error()}
	}
	var req schemaRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: codeUnprocessableEntity,
			Message: "Unrecognized request body: " + err.Error()}
	}
	if req.SchemaType != "" && req.SchemaType != "AVRO" {
		return "", errInvalidSchema(fmt.Errorf("schemaType %s is not supported by this registry (AVRO only)", req.SchemaType))
	}
	if len(req.References) > 0 && string(req.References) != "null" && string(req.References) != "[]" {
		return "", errInvalidSchema(errors.New("schema references are not supported by walrelay's embedded registry: " +
			"register the schema with the named types it references defined inline, " +
			"or use an external registry that supports references"))
	}
	if req.Schema == "" {
		return "", errInvalidSchema(errors.New("empty schema"))
	}
	return req.Schema, nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request, subject string) {
	text, err := readSchema(r)
	if err != nil {
		writeError(w, err)
		return
	}
	id, err := s.store.Register(r.Context(), subject, text)
	var ie *IncompatibleError
	if errors.As(err, &ie) {
		writeError(w, &Error{Status: http.StatusConflict, Code: CodeIncompatible,
			Message: fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q, details: %s",
				subject, ie.Error())})
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	s.log.Info().Str("subject", subject).Int("schema_id", id).Msg("schema registered over HTTP")
	writeJSON(w, http.StatusOK, map[string]int{"id": id})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request, subject string) {
	text, err := readSchema(r)
	if err == nil {
		var v Version
		if v, err = s.store.LookupVersion(subject, text); err == nil {
			writeJSON(w, http.StatusOK, versionBody{Subject: subject, Version: v.Version, ID: v.ID, Schema: v.Text})
			return
		}
	}
	writeError(w, err)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, subject string) {
	if subject == "" {
		writeJSON(w, http.StatusOK, map[string]string{"compatibilityLevel": string(s.store.Level())})
		return
	}
	l, ok, _ := s.store.SubjectLevel(r.Context(), subject)
	if !ok {
		if r.URL.Query().Get("defaultToGlobal") != "true" {
			writeError(w, errSubjectLevelNotSet(subject))
			return
		}
		l = s.store.Level()
	}
	writeJSON(w, http.StatusOK, map[string]string{"compatibilityLevel": string(l)})
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request, subject string) {
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil || json.Unmarshal(b, &req) != nil {
		writeError(w, &Error{Status: http.StatusUnprocessableEntity, Code: codeUnprocessableEntity, Message: "Unrecognized request body"})
		return
	}
	l, err := ParseLevel(req.Compatibility)
	if err != nil || req.Compatibility == "" {
		writeError(w, errInvalidLevel())
		return
	}
	if subject == "" {
		s.store.SetLevel(l)
	} else if err := s.store.SetSubjectLevel(subject, l); err != nil {
		writeError(w, err)
		return
	}
	s.log.Info().Str("subject", subject).Str("compatibility", string(l)).Msg("compatibility level set over HTTP")
	writeJSON(w, http.StatusOK, map[string]string{"compatibility": string(l)})
}

func (s *Server) deleteConfig(w http.ResponseWriter, subject string) {
	prev, err := s.store.DeleteSubjectLevel(subject)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"compatibilityLevel": string(prev)})
}

func (s *Server) compatibility(w http.ResponseWriter, r *http.Request, subject, vStr string) {
	v := 0
	if vStr != "" {
		var err error
		if v, err = parseVersion(vStr); err != nil {
			writeError(w, err)
			return
		}
	}
	text, err := readSchema(r)
	if err != nil {
		writeError(w, err)
		return
	}
	problems, err := s.store.CheckCompatibility(subject, text, v)
	if err != nil {
		writeError(w, err)
		return
	}
	body := map[string]any{"is_compatible": len(problems) == 0}
	if r.URL.Query().Get("verbose") == "true" {
		if problems == nil {
			problems = []string{}
		}
		body["messages"] = problems
	}
	writeJSON(w, http.StatusOK, body)
}
