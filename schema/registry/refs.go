package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hamba/avro/v2"
)

// Reference is one schema reference of a registered schema, as the
// Confluent API gives it: the full name of a named type the schema uses
// without defining it, and the subject and version that define it. Debezium's
// Avro converter registers a table's value schema with its Source record
// as one.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// RefSchema is a referenced schema: where it is registered and its text.
type RefSchema struct {
	Subject string
	Version int
	Text    string
}

// Registered is a schema as a registry holds it: its text as registered
// (field properties included) and the schemas it references, directly or
// not, each listed after those it references itself, which is the order
// Parse reads them in. A self-contained schema has no Refs.
type Registered struct {
	Text       string
	References []Reference // the schema's own references, as registered
	Refs       []RefSchema
}

// Parse parses the schema after its referenced schemas, all in one cache
// of its own (see Parse), so that the names they define resolve.
func (r Registered) Parse() (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	for _, ref := range r.Refs {
		if _, err := parseCached(ref.Text, cache); err != nil {
			return nil, fmt.Errorf("referenced schema (subject %q version %d): %w", ref.Subject, ref.Version, err)
		}
	}
	return parseCached(r.Text, cache)
}

// maxRefs bounds the schemas one registered schema references, directly or
// not: a registry answering with endless references fails the read.
const maxRefs = 1000

// versionAnswer is GET /subjects/{s}/versions/{v}'s body.
type versionAnswer struct {
	Schema     string      `json:"schema"`
	ID         int         `json:"id"`
	Version    int         `json:"version"`
	References []Reference `json:"references"`
	Code       int         `json:"error_code"`
}

// version reads version v ("latest" or a number) of subject, raw, so that
// the text keeps its properties; found is false for Confluent's 40401 (no
// such subject) or 40402 (no such version: Apicurio's answer for an unknown
// subject) on a 404. Any other answer is an error.
func (h *HTTPBackend) version(ctx context.Context, subject, v string) (versionAnswer, bool, error) {
	u := h.base.JoinPath("subjects", subject, "versions", v)
	status, body, err := h.get(ctx, u, ContentType)
	if err != nil {
		return versionAnswer{}, false, err
	}
	var r versionAnswer
	jsonErr := json.Unmarshal(body, &r)
	switch {
	case status == http.StatusNotFound && jsonErr == nil &&
		(r.Code == CodeSubjectNotFound || r.Code == CodeVersionNotFound):
		return versionAnswer{}, false, nil
	case status == http.StatusOK && jsonErr == nil && r.Schema != "":
		return r, true, nil
	}
	if len(body) > 512 {
		body = body[:512]
	}
	return versionAnswer{}, false, fmt.Errorf("GET %s: HTTP %d: %s", u.Redacted(), status, body)
}

// registered reads version v of subject with every schema it references,
// recursively (see Registered); found as for version.
func (h *HTTPBackend) registered(ctx context.Context, subject, v string) (Registered, versionAnswer, bool, error) {
	a, found, err := h.version(ctx, subject, v)
	if err != nil || !found {
		return Registered{}, a, found, err
	}
	r := Registered{Text: a.Schema, References: a.References}
	res := resolver{h: h, state: map[string]int{}}
	res.state[refKey(subject, a.Version)] = inProgress
	if err := res.resolve(ctx, a.References, &r.Refs); err != nil {
		return Registered{}, a, false, fmt.Errorf("the references of subject %q version %d: %w", subject, a.Version, err)
	}
	return r, a, true, nil
}

const (
	inProgress = 1
	resolved   = 2
)

// resolver walks references depth first, reading each subject version
// once; a reference back to a schema whose references are being read is a
// cycle, which no parser can resolve, and fails.
type resolver struct {
	h     *HTTPBackend
	state map[string]int // refKey -> inProgress or resolved
}

func refKey(subject string, version int) string { return subject + "\x00" + strconv.Itoa(version) }

func (r *resolver) resolve(ctx context.Context, refs []Reference, out *[]RefSchema) error {
	for _, ref := range refs {
		if ref.Subject == "" || ref.Version == 0 {
			return fmt.Errorf("reference %q names no subject and version", ref.Name)
		}
		k := refKey(ref.Subject, ref.Version)
		switch r.state[k] {
		case resolved:
			continue
		case inProgress:
			return fmt.Errorf("reference %q: subject %q version %d references itself through its references (a cycle)",
				ref.Name, ref.Subject, ref.Version)
		}
		if len(r.state) > maxRefs {
			return fmt.Errorf("more than %d referenced schemas", maxRefs)
		}
		r.state[k] = inProgress
		a, found, err := r.h.version(ctx, ref.Subject, strconv.Itoa(ref.Version))
		if err == nil && !found {
			err = fmt.Errorf("the registry has no such version")
		}
		if err != nil {
			return fmt.Errorf("reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
		}
		if err := r.resolve(ctx, a.References, out); err != nil {
			return err
		}
		*out = append(*out, RefSchema{Subject: ref.Subject, Version: ref.Version, Text: a.Schema})
		r.state[k] = resolved
	}
	return nil
}
