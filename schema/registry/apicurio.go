package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Apicurio Registry's Confluent-compatible API (ccompat) answers
// GET /config/{subject} for an existing subject that has no level of its own
// with 200 and the global level, where Confluent answers 40408, and it ignores
// ?defaultToGlobal=false. Taken at its word, that global level (NONE unless
// the operator set a global rule) would replace schema_registry.compatibility
// after a subject's first version. Apicurio keeps a subject's own level as the
// artifact's COMPATIBILITY rule in its native API, so for a ccompat URL the
// HTTPBackend asks that API instead. A ccompat PUT /config/{subject} creates
// or updates the rule, except that PUT NONE deletes it (the subject then has
// no level of its own, as if it had never been set): RelaxCommand gives the
// native command that sets NONE as the subject's own level.

// ccompatPath matches the path of an Apicurio ccompat base URL and captures
// what precedes /apis/ccompat/vN (a reverse proxy's prefix, usually "").
var ccompatPath = regexp.MustCompile(`^(.*)/apis/ccompat/v[67]/?$`)

// apicurioArtifacts returns the native API's artifacts URL of the default
// group (where ccompat keeps its subjects) for an Apicurio ccompat base URL,
// or nil when base is not one.
func apicurioArtifacts(base *url.URL) *url.URL {
	m := ccompatPath.FindStringSubmatch(base.Path)
	if m == nil {
		return nil
	}
	u := *base
	u.Path, u.RawPath = m[1]+"/apis/registry/v2/groups/default/artifacts/", ""
	u.RawQuery, u.Fragment = "", ""
	return &u
}

// apicurioRule is the body of GET .../artifacts/{id}/rules/COMPATIBILITY, and
// of the native API's errors (error_code, name).
type apicurioRule struct {
	Type      string `json:"type"`
	Config    string `json:"config"`
	ErrorCode int    `json:"error_code"`
	Name      string `json:"name"`
}

// apicurioSubjectLevel reads the subject's own level from its artifact's
// COMPATIBILITY rule. A 404 from Apicurio (no such rule, no such artifact) is
// "no level of its own"; any other answer, including a 404 that is not
// Apicurio's (the native API hidden by a proxy), is an error, so that the
// configured level is never silently replaced by a guess.
func (h *HTTPBackend) apicurioSubjectLevel(ctx context.Context, subject string) (Level, bool, error) {
	u := h.native.JoinPath(subject, "rules", "COMPATIBILITY")
	status, body, err := h.get(ctx, u, "application/json")
	if err != nil {
		return "", false, fmt.Errorf("Apicurio native API (where a subject's own level is kept): %w", err)
	}
	var r apicurioRule
	jsonErr := json.Unmarshal(body, &r)
	switch {
	case status == http.StatusNotFound && jsonErr == nil &&
		(strings.HasSuffix(r.Name, "NotFoundException") || r.ErrorCode == http.StatusNotFound):
		return "", false, nil
	case status == http.StatusOK && jsonErr == nil && r.Config != "":
		l, err := ParseLevel(r.Config)
		if err != nil {
			return "", false, fmt.Errorf("GET %s: %w", u.Redacted(), err)
		}
		return l, true, nil
	}
	return "", false, fmt.Errorf("GET %s: HTTP %d: %.200s: walrelay reads a subject's own compatibility "+
		"level from Apicurio's native API, because its ccompat API reports the global level for subjects "+
		"without one; make %s reachable with the same credentials as schema_registry.url",
		u.Redacted(), status, body, h.native.Redacted())
}

// LevelSource names where SubjectLevel reads a subject's own level, for the
// Client's start-up log line.
func (h *HTTPBackend) LevelSource() string {
	if h.native != nil {
		return "Apicurio artifact rule (GET " + h.native.Redacted() + "{subject}/rules/COMPATIBILITY)"
	}
	return "GET /config/{subject} (404 = no level of its own)"
}

// RelaxCommand returns the shell command that sets the compatibility of
// subject to NONE in the registry at registryURL (schema_registry.url), for
// an operator who accepts an incompatible change. On Apicurio's ccompat API a
// PUT /config/{subject} of NONE deletes the subject's rule, so that the
// configured level applies again; there the command sets the artifact's
// COMPATIBILITY rule through the native API instead (deleting any rule first,
// since POST refuses to replace one; that DELETE answers 404 when the
// subject has no rule, harmlessly, so its answer is not shown).
func RelaxCommand(registryURL, subject string) string {
	base := strings.TrimRight(registryURL, "/")
	if u, err := url.Parse(base); err == nil {
		if native := apicurioArtifacts(u); native != nil {
			rules := strings.TrimRight(native.JoinPath(subject, "rules").String(), "/")
			return fmt.Sprintf("curl -s -o /dev/null -X DELETE %s/COMPATIBILITY; curl -X POST -H 'Content-Type: application/json' "+
				`--data '{"type":"COMPATIBILITY","config":"NONE"}' %s`, rules, rules)
		}
	}
	return fmt.Sprintf(`curl -X PUT -H 'Content-Type: %s' --data '{"compatibility":"NONE"}' %s/config/%s`,
		ContentType, base, subject)
}
