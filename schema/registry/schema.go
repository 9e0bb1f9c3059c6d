package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/hamba/avro/v2"
)

// Parse parses an Avro schema text with a cache of its own, so that named
// types of one schema (e.g. an earlier version of the same record) never
// leak into another, as they would through avro.DefaultSchemaCache. A panic
// of hamba's parser (it has some on malformed input, e.g. an empty union
// with a default) is returned as an error: schemas come from the network.
// A schema that uses named types of other registered schemas (schema
// references) parses with Registered.Parse.
func Parse(text string) (avro.Schema, error) { return parseCached(text, &avro.SchemaCache{}) }

// parseCached parses text with cache, a panic of the parser returned as an
// error (see Parse).
func parseCached(text string, cache *avro.SchemaCache) (s avro.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("avro: schema rejected by the parser: %v", r)
		}
	}()
	return avro.ParseWithCache(text, "", cache)
}

// Canonical returns the identity form of a schema text: its JSON with
// object keys sorted and no insignificant whitespace, every property kept.
func Canonical(text string) (string, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("schema is not JSON: %w", err)
	}
	if d.More() {
		return "", fmt.Errorf("schema is not JSON: trailing data after the value")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// fingerprint is the cache key of a canonical schema text.
func fingerprint(canonical string) [32]byte { return sha256.Sum256([]byte(canonical)) }

// prepare canonicalises and parses a schema text, reporting a failure as
// Confluent's 42201 invalid schema.
func prepare(text string) (canonical string, s avro.Schema, err error) {
	canonical, err = Canonical(text)
	if err != nil {
		return "", nil, errInvalidSchema(err)
	}
	s, err = Parse(text)
	if err != nil {
		return "", nil, errInvalidSchema(err)
	}
	return canonical, s, nil
}
