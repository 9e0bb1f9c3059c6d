package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/walrelay/walrelay/internal/suggest"
)

// unknownKeyError reports key name, unknown in section ("kafka.", "" for
// the top level), at line of path. The fix names the nearest key of the
// section (at most two edits away), else the section that has a key of
// that name (a key indented under the wrong section), else the reference.
func unknownKeyError(path string, line int, section, name string) *Error {
	e := &Error{File: path, Line: line, Key: section + name, Msg: "unknown key",
		Fix: "check its spelling against README.md's configuration reference"}
	best, bestD := "", 3
	for _, k := range childKeys(section) {
		if d := suggest.Distance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		e.Fix = fmt.Sprintf("did you mean %s?", section+best)
		return e
	}
	var elsewhere []string
	for _, k := range envKeys {
		if strings.HasSuffix(k.key, "."+name) || k.key == name {
			elsewhere = append(elsewhere, k.key)
		}
	}
	if len(elsewhere) > 0 {
		e.Fix = fmt.Sprintf("did you mean %s? (check the key's indentation)", strings.Join(elsewhere, " or "))
	}
	return e
}

// childKeys lists the names of the keys and sections directly in section
// ("kafka." gives brokers, ..., tls, sasl).
func childKeys(section string) []string {
	var names []string
	for _, k := range envKeys {
		rest, ok := strings.CutPrefix(k.key, section)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// unmarshalErr matches yaml.v3's type error: the value's tag, the value
// (scalars only) and the Go type it did not fit.
var unmarshalErr = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")

// typeError turns yaml.v3's "cannot unmarshal !!int `5` into
// time.Duration" at line into an error naming key (the key written at that
// line, or the nearest enclosing config key: a mapping written where a list
// goes has keys of its own) and what it takes. nil when msg is no type
// error or no config key encloses key.
func typeError(path string, line int, key, msg string) *Error {
	m := unmarshalErr.FindStringSubmatch(msg)
	t := keyType(key)
	for t == nil && strings.Contains(key, ".") {
		key = key[:strings.LastIndex(key, ".")]
		t = keyType(key)
	}
	if m == nil || t == nil {
		return nil
	}
	got := fmt.Sprintf("%q", m[2])
	switch {
	case m[1] == "seq":
		got = "a list"
	case m[1] == "map":
		got = "a mapping (key: value)"
	}
	want, fix := expected(t, m[3])
	return &Error{File: path, Line: line, Key: key, Msg: got + " is not " + want, Fix: fix}
}

// expected says what a value of type t takes and how to write it; into is
// the Go type yaml.v3 failed on (a list item's, for a list).
func expected(t reflect.Type, into string) (want, fix string) {
	switch {
	case t == durationType:
		return "a duration such as 500ms, 30s or 5m", "write a number with its unit, e.g. 5s; a bare number is not a duration"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "a whole number", "write digits only, without quotes or units, e.g. 3"
	case t.Kind() == reflect.Bool || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		return "true or false", "write true or false"
	case t.Kind() == reflect.Slice && into == "string":
		return "a list item (one value)", "write one value per item, e.g. [a, b]"
	case t.Kind() == reflect.Slice:
		return "a list", "write a list, e.g. [a, b], or one '- item' per line under the key"
	case t.Kind() == reflect.Map:
		return "name: value pairs", "write name: value pairs, e.g. {cleanup.policy: compact}"
	case t.Kind() == reflect.Struct:
		return "a section", "write its keys indented under it, as in README.md's configuration reference"
	}
	return "a single value", "write one value; quote it if it holds ': ' or ' #'"
}

// keyType returns the Go type of the config key or section key (dotted,
// as written in the file), nil for none.
func keyType(key string) reflect.Type {
	if key == "" {
		return nil
	}
	t := reflect.TypeOf(Config{})
	for _, part := range strings.Split(key, ".") {
		if t.Kind() == reflect.Map { // a topic_config entry: the rest, dots included, is its name
			return t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldByTag(t, part)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return t
}

// fieldByTag finds t's field whose yaml tag is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); strings.Split(f.Tag.Get("yaml"), ",")[0] == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
