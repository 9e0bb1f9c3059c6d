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
type Error struct {
	File string // config file path, "" for built-in or environment values
	Line int    // 1-based line in File, 0 when unknown
	Key  string // dotted key, e.g. "kafka.brokers"
	Msg  string // what is wrong
	Fix  string // what to do
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Load reads the config file at path, applies environment overrides from
// environ (os.Environ() form), fills defaults and validates. An empty path
// loads nothing from disk, so the environment alone can configure walrelay.
func Load(path string, environ []string) (*Config, error) {
	c := &Config{File: path}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read config: %v", errors.Unwrap(err)),
				Fix: "check the path given to --config"}
		}
		if err := decode(path, data, c); err != nil {
			return nil, err
		}
		c.lines = keyLines(data)
	}
	if err := applyEnv(c, environ); err != nil {
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type config\.(\w+)`)
var lineErr = regexp.MustCompile(`line (\d+): (.*)`)

// decode parses YAML strictly: unknown keys are errors with their line.
func decode(path string, data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	msg := err.Error()
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return &Error{File: path, Line: atoi(m[1]), Key: sectionName(m[3]) + m[2],
			Msg: "unknown key", Fix: "check its spelling against README.md's configuration reference"}
	}
	if m := lineErr.FindStringSubmatch(msg); m != nil {
		return &Error{File: path, Line: atoi(m[1]), Msg: m[2], Fix: "fix the YAML at that line"}
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
