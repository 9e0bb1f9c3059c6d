package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment override: WALRELAY_<SECTION>_<KEY> for
// keys in a section (WALRELAY_POSTGRES_DSN), WALRELAY_<KEY> for top-level keys
// (WALRELAY_TOPIC_PREFIX). Lists are comma-separated.
const EnvPrefix = "WALRELAY_"

// envValue is where a config key's value came from when a variable set it.
type envValue struct {
	name  string // WALRELAY_POSTGRES_DSN
	value string // as set, possibly ""
}

// applyEnv overrides c's fields from environ (os.Environ() form) and records
// in c.env which keys a variable set, so that Validate names the variable.
// A variable set to "" overrides the file with an empty value, as a key
// written without a value in the file: "" for a string or a list, and for a
// number, duration or true/false key "not set", so its default applies
// (isSet). A variable that cannot be parsed, and a WALRELAY_ variable that
// looks like a config variable but matches no key (see checkUnknownEnv), is
// an *Error.
func applyEnv(c *Config, environ []string) error {
	vars := envVars(environ)
	if err := applyEnvKeys(c, vars, func(string) bool { return true }); err != nil {
		return err
	}
	return checkUnknownEnv(vars)
}

// envVars returns environ's WALRELAY_ variables by name.
func envVars(environ []string) map[string]string {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	return vars
}

// applyEnvKeys sets, from vars, the keys for which want is true (see
// applyEnv), in envKeys order, and returns the first variable's error.
func applyEnvKeys(c *Config, vars map[string]string, want func(key string) bool) error {
	root := reflect.ValueOf(c).Elem()
	for _, k := range envKeys {
		s, ok := vars[k.name]
		if !ok || !want(k.key) {
			continue
		}
		if err := setField(root.FieldByIndex(k.index), s); err != nil {
			return &Error{Env: k.name, Key: k.key, Msg: err.Error(), Fix: "set it to a valid value or unset it"}
		}
		if c.env == nil {
			c.env = map[string]envValue{}
		}
		c.env[k.key] = envValue{name: k.name, value: s}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// setField parses s into fv. Its errors quote s and say what was expected.
// An empty s gives a number, duration or true/false field its zero value
// (nil for an optional one): the key is not set, as `linger:` in the file.
func setField(fv reflect.Value, s string) error {
	switch {
	case s == "" && fv.Kind() != reflect.String && fv.Kind() != reflect.Slice && fv.Kind() != reflect.Map:
		fv.SetZero()
	case fv.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 500ms, 30s or 5m", s)
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		fv.SetString(s)
	case fv.Kind() == reflect.Int, fv.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		fv.SetInt(n)
	case fv.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		fv.SetBool(b)
	case fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		fv.Set(reflect.ValueOf(&b))
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
		fv.Set(reflect.ValueOf(splitList(s)))
	case fv.Kind() == reflect.Map && fv.Type().Key().Kind() == reflect.String && fv.Type().Elem().Kind() == reflect.String:
		m, err := splitPairs(s)
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}

// splitList parses a comma-separated list; empty items are dropped.
func splitList(s string) []string {
	var list []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			list = append(list, p)
		}
	}
	return list
}

// splitPairs parses a comma-separated list of name=value pairs.
func splitPairs(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q is not name=value (a comma-separated list of them)", p)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}
