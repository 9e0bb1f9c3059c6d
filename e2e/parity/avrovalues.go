package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/internal/avrogeneric"
)

// Wire-format header lengths: the Confluent format walrelay writes (magic
// byte, 4-byte schema ID) and Apicurio 2.x's default, which the Debezium
// side's converter writes (magic byte, 8-byte global ID).
var wireHeaderLen = map[string]int{"walrelay": 5, "debezium": 9}

// avroDecoder decodes one Avro pass's records with each side's registered
// schemas, fetched once per subject.
type avroDecoder struct {
	ctx      context.Context
	registry string            // the Confluent-compatible URL both sides' subjects are read from
	prefixes map[string]string // side -> topic prefix
	schemas  map[string]avro.Schema
}

// asJSON returns recs with every key and value decoded from Avro and
// rendered as JSON (see jsonable), so that the comparer checks Avro values
// as it checks the JSON passes'; a record it cannot decode becomes a
// difference row and keeps its bytes. Each subject is decoded with its
// latest schema: the workload changes no table, so a subject has one
// version, and a record whose schema ID differs from its topic's first is
// reported.
func (d *avroDecoder) asJSON(pass string, recs []record) ([]record, []diffRow) {
	var rows []diffRow
	ids := map[string]string{}
	out := make([]record, len(recs))
	for i, r := range recs {
		out[i] = r
		for _, part := range []struct {
			name string
			b    *[]byte
		}{{"key", &out[i].Key}, {"value", &out[i].Value}} {
			if *part.b == nil {
				continue
			}
			subject := d.prefixes[r.Side] + "." + r.Topic + "-" + part.name
			js, id, err := d.decode(r.Side, subject, *part.b)
			if err == nil && ids[subject] != "" && ids[subject] != id {
				err = fmt.Errorf("schema %s after %s in one subject", id, ids[subject])
			}
			if err != nil {
				row := diffRow{Pass: pass, Table: r.Topic, Key: "*", Op: "*", Field: "avro " + part.name + " undecodable",
					Walrelay: "decoded", Debezium: "decoded"}
				if r.Side == "walrelay" {
					row.Walrelay = err.Error()
				} else {
					row.Debezium = err.Error()
				}
				rows = append(rows, row)
				continue
			}
			ids[subject] = id
			*part.b = js
		}
	}
	return out, rows
}

// viaJSON returns u reading an Avro pass's records: each value is decoded
// (see decode) before u's check sees it; a value that cannot be decoded
// does not satisfy it.
func (d *avroDecoder) viaJSON(u until) until {
	done := u.done
	u.done = func(r record) bool {
		if r.Value != nil {
			js, _, err := d.decode(r.Side, d.prefixes[r.Side]+"."+r.Topic+"-value", r.Value)
			if err != nil {
				return false
			}
			r.Value = js
		}
		return done(r)
	}
	return u
}

// decode decodes one wire-format message of side under subject into JSON
// and returns the schema ID of its header (hex).
func (d *avroDecoder) decode(side, subject string, b []byte) ([]byte, string, error) {
	n := wireHeaderLen[side]
	if len(b) < n || b[0] != 0 {
		return nil, "", fmt.Errorf("not the %d-byte wire format: %x", n, b[:min(len(b), n)])
	}
	s, err := d.schema(subject)
	if err != nil {
		return nil, "", err
	}
	var v any
	if err := avro.Unmarshal(s, b[n:], &v); err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", subject, err)
	}
	js, err := json.Marshal(jsonable(avrogeneric.Unwrap(v)))
	return js, fmt.Sprintf("%x", b[1:n]), err
}

// schema parses the latest schema of subject, its references first.
func (d *avroDecoder) schema(subject string) (avro.Schema, error) {
	if s, ok := d.schemas[subject]; ok {
		return s, nil
	}
	rs, err := latestSchema(d.ctx, d.registry, subject)
	if err != nil {
		return nil, err
	}
	cache := &avro.SchemaCache{}
	for _, ref := range rs.refs {
		if _, err := avro.ParseWithCache(render(ref), "", cache); err != nil {
			return nil, fmt.Errorf("subject %s: reference: %w", subject, err)
		}
	}
	s, err := avro.ParseWithCache(render(rs.schema), "", cache)
	if err != nil {
		return nil, fmt.Errorf("subject %s: %w", subject, err)
	}
	d.schemas[subject] = s
	return s, nil
}

// jsonable turns a value hamba decoded generically, its union wrappers
// removed (avrogeneric.Unwrap), into one json.Marshal renders as Debezium's
// JSON would: bytes as base64 (Marshal's default); decimals as exact
// decimal text; logical-type times as RFC 3339 (time.Time) or nanoseconds
// (time.Duration); NaN and infinities as strings, which JSON cannot hold
// as numbers.
func jsonable(v any) any { return mapLeaves(v, jsonLeaf) }

// jsonLeaf is jsonable for one value that is neither a map nor a slice.
func jsonLeaf(v any) any {
	switch x := v.(type) {
	case float32:
		return floatValue(float64(x))
	case float64:
		return floatValue(x)
	case *big.Rat:
		return x.RatString()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return int64(x)
	}
	return v
}

// floatValue keeps a finite float and names a non-finite one.
func floatValue(f float64) any {
	if name, ok := avrogeneric.FloatName(f); ok {
		return name
	}
	return f
}
