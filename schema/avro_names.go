package schema

import (
	"strconv"
	"strings"
)

// avroFullName sanitises a dotted name into a valid Avro full name, as
// Debezium's schema.name.adjustment.mode=avro does: every character other
// than [A-Za-z0-9_] in a segment becomes '_' (one per character), and a
// segment that starts with a digit or is empty gets it replaced or filled by
// '_', so every segment is a valid Avro name.
func avroFullName(dotted string) string {
	segs := strings.Split(dotted, ".")
	for i, s := range segs {
		segs[i] = avroName(s)
	}
	return strings.Join(segs, ".")
}

// avroName sanitises one name segment (also used for field names).
func avroName(s string) string {
	if validAvroName(s) {
		return s
	}
	b := make([]byte, 0, len(s)+1)
	for _, r := range s {
		if r < 0x80 && nameChar(byte(r)) {
			b = append(b, byte(r))
		} else {
			b = append(b, '_')
		}
	}
	if len(b) == 0 {
		return "_"
	}
	if b[0] >= '0' && b[0] <= '9' {
		b[0] = '_'
	}
	return string(b)
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func validAvroName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}

// splitFullName splits a full name into namespace and name.
func splitFullName(full string) (namespace, name string) {
	i := strings.LastIndexByte(full, '.')
	if i < 0 {
		return "", full
	}
	return full[:i], full[i+1:]
}

// fieldNames returns the Avro field name of each column: sanitised, and
// made unique with a "_<n>" suffix when sanitising makes two columns collide
// (e.g. "a-b" and "a_b"), so a schema never has duplicate fields.
func fieldNames(cols []string) []string {
	out := make([]string, len(cols))
	used := make(map[string]bool, len(cols))
	for _, c := range cols {
		if validAvroName(c) {
			used[c] = true
		}
	}
	for i, c := range cols {
		if validAvroName(c) {
			out[i] = c
			continue
		}
		n := avroName(c)
		for k := 2; used[n]; k++ {
			n = avroName(c) + "_" + strconv.Itoa(k)
		}
		used[n] = true
		out[i] = n
	}
	return out
}
