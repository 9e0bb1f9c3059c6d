// Package avrogeneric helps read Avro values that hamba/avro decoded into
// generic Go values (map[string]any, []any, ...), as tests and tools do.
package avrogeneric

import "math"

// Unwrap returns v with hamba's union wrappers removed, recursively: a
// union branch of a named type decodes as {"<full name>": value}, of an
// array as {"array": [...]} and of a map as {"map": {...}}; Unwrap replaces
// each by its value. A named type's full name has a dot and a record
// field's name never does, so a one-field record is left alone unless its
// field is "array" or "map" holding a value of that kind.
func Unwrap(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				if isWrapper(k, inner) {
					return Unwrap(inner)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Unwrap(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Unwrap(e)
		}
		return out
	}
	return v
}

// isWrapper reports whether {k: inner} is a union wrapper (see Unwrap).
func isWrapper(k string, inner any) bool {
	switch inner.(type) {
	case []any:
		if k == "array" {
			return true
		}
	case map[string]any:
		if k == "map" {
			return true
		}
	}
	for i := 0; i < len(k); i++ {
		if k[i] == '.' {
			return true
		}
	}
	return false
}

// FloatName returns the name Jackson (and so Debezium's JSON) gives a
// non-finite float: "NaN", "Infinity" or "-Infinity"; ok is false for a
// finite f.
func FloatName(f float64) (name string, ok bool) {
	switch {
	case math.IsNaN(f):
		return "NaN", true
	case math.IsInf(f, 1):
		return "Infinity", true
	case math.IsInf(f, -1):
		return "-Infinity", true
	}
	return "", false
}
