package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a configuration mistake, with where it is and how to fix it.
// A value that came from an environment variable names the variable (Env)
// rather than the file's line; Line then says which line of File it
// overrides.
type Error struct {
	File string // config file path, "" for built-in or environment-only configs
	Line int    // 1-based line of Key in File, 0 when the file does not set it
	Env  string // the variable that set Key's value (or that matches no key), "" for none
	Key  string // dotted key, e.g. "kafka.brokers"
	Msg  string // what is wrong
	Fix  string // what to do
}

// Error renders "file:line: key: msg (fix)", or for a value from the
// environment "VAR: msg (fix; set in the environment for key, overriding
// file:line)".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		fmt.Fprintf(&b, "%s: ", e.Env)
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" && e.Env == "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	var notes []string
	if e.Fix != "" {
		notes = append(notes, e.Fix)
	}
	if e.Env != "" && e.Key != "" {
		origin := "set in the environment for " + e.Key
		if e.File != "" && e.Line > 0 {
			origin += fmt.Sprintf(", overriding %s:%d", e.File, e.Line)
		}
		notes = append(notes, origin)
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
	}
	return b.String()
}

// Load reads the config file at path, applies environment overrides from
// environ (os.Environ() form), fills defaults and validates. An empty path
// loads nothing from disk, so the environment alone can configure walrelay.
func Load(path string, environ []string) (*Config, error) {
	c, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if err := applyEnv(c, environ); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			c.locate(ce)
		}
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadLog returns the log settings of the config Load(path, environ) would
// load: the file's log section, the WALRELAY_LOG_ variables, the defaults.
// It lets `walrelay run` report an error Load returns (in another key) in
// the log the configuration asks for. It fails only when the file cannot
// be read or parsed or a log setting is invalid; Load's error says which.
func LoadLog(path string, environ []string) (Log, error) {
	c, err := readFile(path)
	if err != nil {
		return Log{}, err
	}
	isLog := func(key string) bool { return strings.HasPrefix(key, "log.") }
	if err := applyEnvKeys(c, envVars(environ), isLog); err != nil {
		return Log{}, err
	}
	setStr(&c.Log.Level, "info")
	setStr(&c.Log.Format, "json")
	if !ValidLogLevel(c.Log.Level) || !ValidLogFormat(c.Log.Format) {
		return Log{}, &Error{File: path, Key: "log", Msg: "invalid log settings", Fix: "see log.level and log.format"}
	}
	return c.Log, nil
}

// readFile reads and decodes the config file at path; "" gives an empty
// Config (the environment alone configures walrelay).
func readFile(path string) (*Config, error) {
	c := &Config{File: path}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", errors.Unwrap(err)),
			Fix: "check the path given to --config"}
	}
	ix := indexDoc(data)
	if err := decode(path, data, c, ix); err != nil {
		return nil, err
	}
	c.lines, c.nulls = ix.lines, ix.nulls
	return c, nil
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type config\.(\w+)`)
var lineErr = regexp.MustCompile(`line (\d+): (.*)`)

// decode parses YAML strictly. An unknown key is an error with its line and
// the nearest known key; a value of the wrong type one with its line, its
// key and what the key takes (ix locates them).
func decode(path string, data []byte, c *Config, ix docIndex) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	msg := err.Error()
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return unknownKeyError(path, atoi(m[1]), sectionName(m[3]), m[2])
	}
	if m := lineErr.FindStringSubmatch(msg); m != nil {
		line := atoi(m[1])
		if e := typeError(path, line, ix.keyAt(line), m[2]); e != nil {
			return e
		}
		return &Error{File: path, Line: line, Msg: m[2], Fix: "fix the YAML at that line"}
	}
	return &Error{File: path, Msg: strings.TrimPrefix(msg, "yaml: "), Fix: "fix the YAML syntax"}
}

// sectionName maps a config struct type to its key prefix.
func sectionName(typ string) string {
	switch typ {
	case "Config":
		return ""
	case "SchemaRegistry":
		return "schema_registry."
	case "KafkaTLS":
		return "kafka.tls."
	case "KafkaSASL":
		return "kafka.sasl."
	}
	return strings.ToLower(typ) + "."
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
