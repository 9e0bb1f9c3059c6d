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

// applyEnv overrides c's fields from environ. Unknown WALRELAY_ variables are
// ignored (tests and tools use the prefix too).
func applyEnv(c *Config, environ []string) error {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	return walk(reflect.ValueOf(c).Elem(), EnvPrefix, "", vars)
}

func walk(v reflect.Value, envPrefix, keyPrefix string, vars map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := envPrefix + strings.ToUpper(tag)
		key := keyPrefix + tag
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			if err := walk(fv, name+"_", key+".", vars); err != nil {
				return err
			}
			continue
		}
		if s, ok := vars[name]; ok {
			if err := setField(fv, s); err != nil {
				return &Error{Key: key, Msg: fmt.Sprintf("environment variable %s=%q: %v", name, s, err),
					Fix: "set it to a valid value or unset it"}
			}
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func setField(fv reflect.Value, s string) error {
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		fv.SetString(s)
	case fv.Kind() == reflect.Int, fv.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		fv.SetInt(n)
	case fv.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(&b))
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
		var list []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		fv.Set(reflect.ValueOf(list))
	case fv.Kind() == reflect.Map && fv.Type().Key().Kind() == reflect.String && fv.Type().Elem().Kind() == reflect.String:
		m := map[string]string{}
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			k, v, ok := strings.Cut(p, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("%q is not name=value (a comma-separated list of them)", p)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		fv.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}
