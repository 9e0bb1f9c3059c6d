package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/internal/avrogeneric"
)

// Wire-format header lengths: the Confluent format walrelay writes (magic
// byte, 4-byte schema ID) and Apicurio 2.x's default, which the Debezium
// side's converter writes (magic byte, 8-byte global ID).
var wireHeaderLen = map[string]int{"walrelay": 5, "debezium": 9}

// avroDecoder decodes one Avro pass's records, each with the schema its
// wire-format header names (so a record written before a DDL is decoded
// with the schema it was written with), fetched once per ID.
type avroDecoder struct {
	ctx      context.Context
	registry string                 // the Confluent-compatible URL; Debezium's global IDs are read through dbzRegistryURL
	prefixes map[string]string      // side -> topic prefix
	schemas  map[string]avro.Schema // schemaKey(side, id) -> parsed schema
}

// asJSON returns recs with every key and value decoded from Avro and
// rendered as JSON (see jsonable), so that the comparer checks Avro values
// as it checks the JSON passes'; a record it cannot decode becomes a
// difference row and keeps its bytes.
func (d *avroDecoder) asJSON(pass string, recs []record) ([]record, []diffRow) {
	var rows []diffRow
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
			js, err := d.decode(r.Side, *part.b)
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
			js, err := d.decode(r.Side, r.Value)
			if err != nil {
				return false
			}
			r.Value = js
		}
		return done(r)
	}
	return u
}

// decode decodes one wire-format message of side into JSON with the schema
// its header's ID names: walrelay's 4-byte Confluent ID, Debezium's 8-byte
// Apicurio global ID (wireHeaderLen).
func (d *avroDecoder) decode(side string, b []byte) ([]byte, error) {
	n := wireHeaderLen[side]
	if len(b) < n || b[0] != 0 {
		return nil, fmt.Errorf("not the %d-byte wire format: %x", n, b[:min(len(b), n)])
	}
	var id uint64
	for _, c := range b[1:n] {
		id = id<<8 | uint64(c)
	}
	s, err := d.schema(side, id)
	if err != nil {
		return nil, err
	}
	var v any
	if err := avro.Unmarshal(s, b[n:], &v); err != nil {
		return nil, fmt.Errorf("decode with schema %s: %w", schemaKey(side, id), err)
	}
	return json.Marshal(jsonable(avrogeneric.Unwrap(v)))
}

// schema parses the schema side's ID id names, its references first.
func (d *avroDecoder) schema(side string, id uint64) (avro.Schema, error) {
	key := schemaKey(side, id)
	if s, ok := d.schemas[key]; ok {
		return s, nil
	}
	rs, err := schemaByID(d.ctx, d.registry, side, id)
	if err != nil {
		return nil, err
	}
	cache := &avro.SchemaCache{}
	for _, ref := range rs.refs {
		if _, err := avro.ParseWithCache(render(ref), "", cache); err != nil {
			return nil, fmt.Errorf("schema %s: reference: %w", key, err)
		}
	}
	s, err := avro.ParseWithCache(render(rs.schema), "", cache)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", key, err)
	}
	d.schemas[key] = s
	return s, nil
}

// schemaKey names a side's schema ID in the cache and in messages:
// "walrelay id 7", "debezium global id 19".
func schemaKey(side string, id uint64) string {
	if side == "debezium" {
		return fmt.Sprintf("debezium global id %d", id)
	}
	return fmt.Sprintf("%s id %d", side, id)
}

// jsonable turns a value hamba decoded generically, its union wrappers
// removed (avrogeneric.Unwrap), into one json.Marshal renders as Debezium's
// JSON would: bytes as base64 (Marshal's default); decimals as exact
// decimal text; logical-type times as RFC 3339 (time.Time) or nanoseconds
// (time.Duration); floats in floating form, NaN and infinities as strings,
// which JSON cannot hold as numbers.
func jsonable(v any) any { return mapLeaves(v, jsonLeaf) }

// jsonLeaf is jsonable for one value that is neither a map nor a slice.
func jsonLeaf(v any) any {
	switch x := v.(type) {
	case float32:
		return floatValue(float64(x), 32)
	case float64:
		return floatValue(x, 64)
	case *big.Rat:
		return x.RatString()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return int64(x)
	}
	return v
}

// floatValue writes a finite float in floating form (2.0, not 2, as a
// Java or Jackson writer does, so that numbersEqual tells an Avro double
// from an integer) and names a non-finite one; bits is the Avro type's
// size, 32 for float.
func floatValue(f float64, bits int) any {
	if name, ok := avrogeneric.FloatName(f); ok {
		return name
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return json.Number(s)
}
