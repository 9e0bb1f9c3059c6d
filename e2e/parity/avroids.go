package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// schemaByID returns the schema side's wire-format ID names, with the
// schemas it references: walrelay's ID is the registry's Confluent ID
// (GET <ccompat>/schemas/ids/<id>); Debezium's Apicurio converter writes
// the artifact version's global ID (GET <v2>/ids/globalIds/<id> and its
// /references, each an artifact of the default group, which the
// Confluent-compatible API serves as the subject of that name).
func schemaByID(ctx context.Context, registry, side string, id uint64) (*regSchema, error) {
	var text string
	type ref struct{ Name, Subject, Version string }
	var refs []ref
	if side == "debezium" {
		base := fmt.Sprintf("%s/ids/globalIds/%d", dbzRegistryURL(strings.TrimRight(registry, "/")), id)
		body, err := httpGet(ctx, base)
		if err != nil {
			return nil, err
		}
		text = string(body)
		var rs []struct {
			Name, ArtifactID string
			Version          json.Number
		}
		if err := getJSON(ctx, base+"/references", &rs); err != nil {
			return nil, err
		}
		for _, r := range rs {
			refs = append(refs, ref{r.Name, r.ArtifactID, r.Version.String()})
		}
	} else {
		var v struct {
			Schema     string
			References []struct {
				Name, Subject string
				Version       json.Number
			}
		}
		if err := getJSON(ctx, fmt.Sprintf("%s/schemas/ids/%d", strings.TrimRight(registry, "/"), id), &v); err != nil {
			return nil, err
		}
		text = v.Schema
		for _, r := range v.References {
			refs = append(refs, ref{r.Name, r.Subject, r.Version.String()})
		}
	}
	s, err := decodeJSON([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", schemaKey(side, id), err)
	}
	out := &regSchema{schema: s, refNames: []string{}}
	for _, r := range refs {
		rs, err := fetchSchema(ctx, registry, r.Subject, r.Version, 1)
		if err != nil {
			return nil, fmt.Errorf("schema %s: reference %s: %w", schemaKey(side, id), r.Name, err)
		}
		out.refs = append(append(out.refs, rs.refs...), rs.schema)
		out.refNames = append(out.refNames, r.Name)
	}
	return out, nil
}

// getJSON decodes the JSON body of GET u into v.
func getJSON(ctx context.Context, u string, v any) error {
	body, err := httpGet(ctx, u)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// httpGet returns the body of GET u, an error unless it answers 200 OK.
func httpGet(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, clip(string(body), 200))
	}
	if os.Getenv("PARITY_DEBUG_SCHEMAS") != "" {
		progress("GET %s: %s", u, body)
	}
	return body, nil
}
