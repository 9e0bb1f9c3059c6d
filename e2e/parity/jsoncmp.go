package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// absent stands for a field one document lacks (shown as "(absent)"), so
// a missing field and a JSON null are told apart.
const absent = "(absent)"

// jsonDiff is one place where two JSON documents differ: the dotted path
// ("" for the root, "a.b", "a[2]") and each side's compact JSON text there
// (absent when the field is missing on that side).
type jsonDiff struct {
	Path string
	A, B string
}

// compareJSON compares two JSON documents semantically and returns every
// difference, deepest first found: numbers compare by exact value and by
// form (numbersEqual: 1.0 and 1e0 are equal; 1 and 1.0, 0.0 and -0.0, 0.1
// and 0.10000000000000001 are not), objects ignore
// key order, arrays compare element by element (a length difference is one
// diff at the array's path), strings compare byte for byte, and a type
// difference (the number 1 against the string "1") is a diff. An empty or
// nil document is JSON null. A document that does not parse is compared as
// text and reported as such.
func compareJSON(a, b []byte) []jsonDiff {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		if bytes.Equal(a, b) {
			return nil
		}
		return []jsonDiff{{Path: "", A: string(a), B: string(b)}}
	}
	var out []jsonDiff
	diffValues("", va, vb, &out)
	return out
}

// jsonEqual reports whether compareJSON finds no difference.
func jsonEqual(a, b []byte) bool { return len(compareJSON(a, b)) == 0 }

// decodeJSON decodes a document keeping numbers as json.Number.
func decodeJSON(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

// diffValues appends the differences between a and b at path to out.
func diffValues(path string, a, b any, out *[]jsonDiff) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		for _, k := range unionKeys(x, y) {
			va, okA := x[k]
			vb, okB := y[k]
			p := joinPath(path, k)
			switch {
			case !okA:
				*out = append(*out, jsonDiff{p, absent, render(vb)})
			case !okB:
				*out = append(*out, jsonDiff{p, render(va), absent})
			default:
				diffValues(p, va, vb, out)
			}
		}
		return
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			break
		}
		for i := range x {
			diffValues(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], out)
		}
		return
	case json.Number:
		if y, ok := b.(json.Number); ok && numbersEqual(x, y) {
			return
		}
	default: // string, bool, nil
		if a == b {
			return
		}
	}
	*out = append(*out, jsonDiff{path, render(a), render(b)})
}

// numbersEqual compares two JSON numbers by exact value and by form: a
// number written as an integer (16777216) is not equal to one written with
// a fraction or an exponent (1.6777216E7), since a schemaless consumer
// (Kafka Connect's JsonConverter, Jackson, Python) reads the first as an
// integer type and the second as a double; and a floating zero keeps its
// sign (-0.0 is not 0.0).
func numbersEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	if isFloatText(a) != isFloatText(b) {
		return false
	}
	ra, okA := new(big.Rat).SetString(string(a))
	rb, okB := new(big.Rat).SetString(string(b))
	if !okA || !okB || ra.Cmp(rb) != 0 {
		return false
	}
	return ra.Sign() != 0 || !isFloatText(a) || strings.HasPrefix(string(a), "-") == strings.HasPrefix(string(b), "-")
}

// isFloatText reports whether a JSON number is written in floating form,
// with a fraction or an exponent.
func isFloatText(n json.Number) bool { return strings.ContainsAny(string(n), ".eE") }

// unionKeys returns the keys of both objects, sorted.
func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// joinPath appends an object key (or a sub-path) to a dotted path.
func joinPath(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	}
	return path + "." + key
}

// render prints a decoded value as compact JSON without HTML escaping;
// numbers keep their original text, object keys come sorted.
func render(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimRight(buf.String(), "\n")
}

// renderRaw is the compact form of a raw document (absent when nil).
func renderRaw(b []byte) string {
	if b == nil {
		return absent
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// canonical is a normal form of a document for grouping: numbers as exact
// rationals, object keys sorted; two documents compareJSON finds equal have
// the same canonical form.
func canonical(b []byte) string {
	v, err := decodeJSON(b)
	if err != nil {
		return "raw:" + string(b)
	}
	return render(normalize(v))
}

// normalize replaces every number by its exact rational text.
func normalize(v any) any {
	return mapLeaves(v, func(leaf any) any {
		if n, ok := leaf.(json.Number); ok {
			if r, ok := new(big.Rat).SetString(string(n)); ok {
				return json.Number(r.RatString())
			}
		}
		return leaf
	})
}

// mapLeaves returns a copy of v, a decoded JSON-like tree of maps and
// slices, with every other value replaced by leaf's result for it.
func mapLeaves(v any, leaf func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = mapLeaves(e, leaf)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = mapLeaves(e, leaf)
		}
		return s
	}
	return leaf(v)
}
