package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// defaultConverterLib holds Apicurio 2.4.2's Kafka Connect Avro converter
// and its dependencies (e2e/bench/debezium_avro.go fetches it there).
var defaultConverterLib = filepath.Join(cacheDir(), "apicurio-converter-2.4.2.Final", "lib")

// avroSetup returns the Debezium classpath of the Avro pass: Debezium's lib
// jars without its bundled Apicurio 3.x ones, plus the 2.x converter's.
func avroSetup(o options, p *pass) (string, error) {
	return avroClasspath(filepath.Join(o.dbzDir, "lib"), defaultConverterLib)
}

// dbzRegistryURL turns the registry's Confluent-compatible URL
// (http://h:p/apis/ccompat/v7) into the native v2 API URL Apicurio's
// converter speaks (http://h:p/apis/registry/v2).
func dbzRegistryURL(ccompat string) string {
	base, _, ok := strings.Cut(ccompat, "/apis/ccompat/")
	if !ok {
		return ccompat
	}
	return base + "/apis/registry/v2"
}

// jarVersionRe splits "avro-1.11.1.jar" into artifact "avro" and version.
var jarVersionRe = regexp.MustCompile(`^(.+?)-\d[^-]*(?:-.*)?\.jar$`)

// avroClasspath is e2e/bench's: Debezium's jars except apicurio-*, then the
// converter's apicurio-* jars and those of its other jars Debezium lacks.
func avroClasspath(dbzLib, convLib string) (string, error) {
	dbz, _ := filepath.Glob(filepath.Join(dbzLib, "*.jar"))
	conv, _ := filepath.Glob(filepath.Join(convLib, "*.jar"))
	if len(dbz) == 0 || len(conv) == 0 {
		return "", fmt.Errorf("debezium avro: no jars in %s or %s", dbzLib, convLib)
	}
	artifact := func(name string) string {
		if m := jarVersionRe.FindStringSubmatch(name); m != nil {
			return m[1]
		}
		return strings.TrimSuffix(name, ".jar")
	}
	var cp []string
	have := map[string]bool{}
	for _, j := range dbz {
		if name := filepath.Base(j); !strings.HasPrefix(name, "apicurio-") {
			have[artifact(name)] = true
			cp = append(cp, j)
		}
	}
	for _, j := range conv {
		name := filepath.Base(j)
		a := artifact(name)
		if a == "lombok" || (!strings.HasPrefix(name, "apicurio-") && have[a]) {
			continue
		}
		cp = append(cp, j)
	}
	return strings.Join(cp, ":"), nil
}

// compareAvroSchemas fetches, for every topic of the pass, the latest key
// and value schema each connector registered (subjects <topic>-key and
// <topic>-value through the registry's Confluent-compatible API) and
// compares them field by field (flattenSchema).
func compareAvroSchemas(ctx context.Context, p *pass, o options) ([]diffRow, error) {
	var rows []diffRow
	for _, suffix := range topicSuffixes(p) {
		for _, part := range []string{"key", "value"} {
			wr, errW := latestSchema(ctx, p.registryURL, p.relayPrefix()+"."+suffix+"-"+part)
			dbz, errD := latestSchema(ctx, p.registryURL, p.dbzPrefix()+"."+suffix+"-"+part)
			row := diffRow{Pass: p.tag, Table: suffix + "-" + part, Key: part + " schema", Op: "*"}
			if errW != nil || errD != nil {
				if errW != nil && errD != nil {
					continue // neither registered one (e.g. no key schema for messages)
				}
				row.Field, row.Walrelay, row.Debezium = "subject", "registered", "registered"
				if errW != nil {
					row.Walrelay = errW.Error()
				} else {
					row.Debezium = errD.Error()
				}
				rows = append(rows, row)
				continue
			}
			fw := flattenSchema(wr.schema, p.relayPrefix(), wr.refs)
			fd := flattenSchema(dbz.schema, p.dbzPrefix(), dbz.refs)
			fw["references"], fd["references"] = render(wr.refNames), render(dbz.refNames)
			for _, k := range unionStringKeys(fw, fd) {
				a, okA := fw[k]
				b, okB := fd[k]
				if !okA {
					a = absent
				}
				if !okB {
					b = absent
				}
				if a != b {
					r := row
					r.Field, r.Walrelay, r.Debezium = k, a, b
					rows = append(rows, r)
				}
			}
		}
	}
	return rows, nil
}

// regSchema is a registered schema, decoded, with the schemas it references.
type regSchema struct {
	schema   any
	refs     []any
	refNames []string
}

// latestSchema returns the latest schema of subject and, recursively, the
// schemas it references.
func latestSchema(ctx context.Context, registry, subject string) (*regSchema, error) {
	return fetchSchema(ctx, registry, subject, "latest", 0)
}

// fetchSchema returns one version of subject with its references.
func fetchSchema(ctx context.Context, registry, subject, version string, depth int) (*regSchema, error) {
	u := strings.TrimRight(registry, "/") + "/subjects/" + url.PathEscape(subject) + "/versions/" + version
	var v struct {
		Schema     string `json:"schema"`
		References []struct {
			Name, Subject string
			Version       json.Number
		} `json:"references"`
	}
	if err := getJSON(ctx, u, &v); err != nil {
		return nil, fmt.Errorf("subject %s: %w", subject, err)
	}
	s, err := decodeJSON([]byte(v.Schema))
	if err != nil {
		return nil, fmt.Errorf("subject %s: %w", subject, err)
	}
	out := &regSchema{schema: s, refNames: []string{}}
	for _, r := range v.References {
		if depth > 5 {
			break
		}
		ref, err := fetchSchema(ctx, registry, r.Subject, r.Version.String(), depth+1)
		if err != nil {
			return nil, fmt.Errorf("subject %s: reference %s: %w", subject, r.Name, err)
		}
		out.refs = append(append(out.refs, ref.refs...), ref.schema)
		out.refNames = append(out.refNames, r.Name)
	}
	return out, nil
}

// unionStringKeys returns both maps' keys, sorted.
func unionStringKeys(a, b map[string]string) []string {
	var keys []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}
