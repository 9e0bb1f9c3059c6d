package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// CheckResult is one line of `walrelay check` about the registry: OK, or
// what failed and the setting or action that fixes it.
type CheckResult struct {
	OK   bool
	What string
	Fix  string
}

// fixURL is the fix of a registry that cannot be reached or does not
// answer as a Confluent-compatible one.
const fixURL = "start the registry or correct schema_registry.url: the base URL of the Confluent-compatible API " +
	"(Confluent: http://HOST:8081; Apicurio: http://HOST:8080/apis/ccompat/v7), reachable from walrelay; " +
	"with format avro walrelay needs it at each table's first change after the process starts and at every schema change " +
	"(a registry that is down does not stop the start: the first change that needs it halts streaming until it answers)"

// Check tells whether the registry answers as the encoder needs it: GET
// /subjects, with the configured credentials and TLS, returns a JSON list
// (the Confluent API) and, for an Apicurio ccompat URL, the native API from
// which a subject's own compatibility level is read (apicurio.go) answers
// too. It registers nothing. ctx bounds the requests.
func (h *HTTPBackend) Check(ctx context.Context) CheckResult {
	base := h.base.Redacted()
	u := h.base.JoinPath("subjects")
	status, body, err := h.get(ctx, u, ContentType)
	switch {
	case err != nil:
		return CheckResult{What: fmt.Sprintf("schema registry %s: %v", base, err), Fix: fixURL +
			"; for TLS, schema_registry.ca_file, cert_file and key_file"}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return CheckResult{What: fmt.Sprintf("schema registry %s: GET /subjects: HTTP %d: the credentials are refused", base, status),
			Fix: "set schema_registry.username and password (or cert_file and key_file) to an identity allowed to read and register schemas"}
	}
	var subjects []string
	if status != http.StatusOK || json.Unmarshal(body, &subjects) != nil {
		if status == http.StatusOK && len(body) == 1<<20 && body[0] == '[' {
			subjects = nil // a list longer than get reads: it answers all the same
		} else {
			return CheckResult{What: fmt.Sprintf("schema registry %s: GET /subjects: HTTP %d %.120q: not the Confluent schema registry API",
				base, status, body), Fix: fixURL}
		}
	}
	what := fmt.Sprintf("schema registry %s: the Confluent API answers (%d subjects)", base, len(subjects))
	if h.native != nil {
		if _, _, err := h.apicurioSubjectLevel(ctx, "walrelay-check"); err != nil {
			return CheckResult{What: fmt.Sprintf("schema registry %s: %v", base, err),
				Fix: fmt.Sprintf("make Apicurio's native API %s reachable with the credentials of schema_registry.url", h.native.Redacted())}
		}
		what += "; Apicurio's native API, where subjects' own compatibility levels are read, answers"
	}
	return CheckResult{OK: true, What: what}
}
