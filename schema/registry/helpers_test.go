package registry

import (
	"fmt"
	"testing"
)

// rec returns a record schema text named ns.R with the given fields, each
// "name:type" where type is a JSON type; an optional field is
// "name?:type" (["null", type] default null).
func rec(fields ...string) string {
	s := `{"type":"record","name":"R","namespace":"ns","fields":[`
	for i, f := range fields {
		if i > 0 {
			s += ","
		}
		var name, typ string
		for j := 0; j < len(f); j++ {
			if f[j] == ':' {
				name, typ = f[:j], f[j+1:]
				break
			}
		}
		if name[len(name)-1] == '?' {
			s += fmt.Sprintf(`{"name":%q,"type":["null",%s],"default":null}`, name[:len(name)-1], typ)
		} else {
			s += fmt.Sprintf(`{"name":%q,"type":%s}`, name, typ)
		}
	}
	return s + `]}`
}

func openStore(t *testing.T, dir string, level Level) *Store {
	t.Helper()
	s, err := OpenStore(dir, level)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustVersion parses text as version 1 (ID 1) of a subject, failing t if it
// does not parse.
func mustVersion(t *testing.T, text string) Version {
	t.Helper()
	s, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return Version{Version: 1, ID: 1, Schema: s, Text: text}
}
