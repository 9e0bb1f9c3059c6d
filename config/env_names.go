package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/walrelay/walrelay/internal/suggest"
)

// envKey is one config key and the variable that overrides it.
type envKey struct {
	name  string // WALRELAY_KAFKA_SASL_PASSWORD
	key   string // kafka.sasl.password
	index []int  // reflect field index path in Config
}

// envKeys lists every config key's variable; envSections the upper-case
// names of the top-level sections (POSTGRES, SCHEMA_REGISTRY, ...).
var envKeys, envSections = envNames()

func envNames() ([]envKey, []string) {
	var keys []envKey
	var sections []string
	var visit func(t reflect.Type, index []int, name, key string)
	visit = func(t reflect.Type, index []int, name, key string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			idx := append(slices.Clone(index), i)
			if f.Type.Kind() == reflect.Struct {
				if len(index) == 0 {
					sections = append(sections, strings.ToUpper(tag))
				}
				visit(f.Type, idx, name+strings.ToUpper(tag)+"_", key+tag+".")
				continue
			}
			keys = append(keys, envKey{name: name + strings.ToUpper(tag), key: key + tag, index: idx})
		}
	}
	visit(reflect.TypeOf(Config{}), nil, EnvPrefix, "")
	return keys, sections
}

// Variables with the WALRELAY_ prefix that walrelay's tests and tools read
// outside the config: the tests' services (WALRELAY_TEST_*), the chaos soak
// (WALRELAY_CHAOS_*), the bench's and CI's cache and scripts (.ci/).
var envOutsideConfig = regexp.MustCompile(`^WALRELAY_(TEST_.*|CHAOS_.*|CI_.*|CACHE|SERVICES_DIR|PG_USER)$`)

// Kubernetes injects <SERVICE>_SERVICE_HOST, <SERVICE>_PORT_8081_TCP and the
// like for every Service in the namespace; a Service named walrelay-metrics
// gives WALRELAY_METRICS_PORT. No config key ends this way.
var envServiceLink = regexp.MustCompile(`_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$`)

// checkUnknownEnv returns an *Error for the first variable (by name) in vars
// that no config key reads although it looks meant for one: it names a
// section (WALRELAY_KAFKA_TLS), it is WALRELAY_<SECTION>_... for a config
// section (WALRELAY_POSTGRES_SLTO), or it is at most two edits from a config
// variable (WALRELAY_KAFAK_BROKERS, WALRELAY_TOPIC_PREFX). Variables read
// outside the config (envOutsideConfig) and Kubernetes service links are
// never reported; other WALRELAY_ variables are ignored.
func checkUnknownEnv(vars map[string]string) error {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if isConfigVar(n) || envOutsideConfig.MatchString(n) || envServiceLink.MatchString(n) {
			continue
		}
		if in := sectionVars(n); len(in) > 0 {
			return &Error{Env: n, Msg: "names a section, not a key",
				Fix: "set its keys' variables instead: " + strings.Join(in, ", ")}
		}
		near, d := nearestVar(n)
		if d > 2 && !inSection(n) {
			continue
		}
		fix := fmt.Sprintf("did you mean %s, which sets %s?", near, keyOf(near))
		if d > 3 {
			fix = fmt.Sprintf("the nearest config variable is %s; a key's variable is WALRELAY_ and the key in upper case "+
				"with '_' for '.', e.g. WALRELAY_KAFKA_SASL_PASSWORD for kafka.sasl.password", near)
		}
		return &Error{Env: n, Msg: "matches no config key", Fix: fix}
	}
	return nil
}

func isConfigVar(name string) bool {
	return keyOf(name) != ""
}

// keyOf returns the dotted key a variable sets, "" for none.
func keyOf(name string) string {
	for _, k := range envKeys {
		if k.name == name {
			return k.key
		}
	}
	return ""
}

// sectionVars returns the variables of the keys in the section that name
// stands for (WALRELAY_KAFKA_TLS: WALRELAY_KAFKA_TLS_ENABLED, ...), nil when
// name is no section's.
func sectionVars(name string) []string {
	var in []string
	for _, k := range envKeys {
		if strings.HasPrefix(k.name, name+"_") {
			in = append(in, k.name)
		}
	}
	return in
}

// inSection reports whether name is WALRELAY_<SECTION>_... for a config section.
func inSection(name string) bool {
	rest := strings.TrimPrefix(name, EnvPrefix)
	for _, s := range envSections {
		if strings.HasPrefix(rest, s+"_") {
			return true
		}
	}
	return false
}

// nearestVar returns the config variable closest to name and its distance
// (the first in envKeys order on a tie).
func nearestVar(name string) (string, int) {
	best, bestD := "", -1
	for _, k := range envKeys {
		if d := suggest.Distance(name, k.name); bestD < 0 || d < bestD {
			best, bestD = k.name, d
		}
	}
	return best, bestD
}
