package decoder

import (
	"errors"
	"fmt"

	"github.com/walrelay/walrelay/event"
)

// hstoreTypeName is the type name of the hstore extension. Its OID differs
// per database, so the decoder recognises it by name.
const hstoreTypeName = "hstore"

var errHStore = errors.New("invalid hstore")

// convHStore parses hstore's text output, `"k"=>"v", "k2"=>NULL` (every key
// and value quoted, '"' and '\' backslash-escaped), into an event.HStore.
// It also accepts unquoted keys and values, which hstore's input allows.
func convHStore(src []byte) (any, error) {
	h := event.HStore{}
	s := skipSpace(src)
	for len(s) > 0 {
		var p event.HStorePair
		var err error
		if p.Key, s, err = hstoreToken(s); err != nil {
			return nil, fmt.Errorf("%w %q: key: %v", errHStore, src, err)
		}
		s = skipSpace(s)
		if len(s) < 2 || s[0] != '=' || s[1] != '>' {
			return nil, fmt.Errorf("%w %q: want => after key %q", errHStore, src, p.Key)
		}
		s = skipSpace(s[2:])
		if p.Null = isUnquotedNull(s); p.Null {
			s = s[4:]
		} else if p.Value, s, err = hstoreToken(s); err != nil {
			return nil, fmt.Errorf("%w %q: value of %q: %v", errHStore, src, p.Key, err)
		}
		h = append(h, p)
		s = skipSpace(s)
		if len(s) > 0 {
			if s[0] != ',' {
				return nil, fmt.Errorf("%w %q: want , after the pair of %q", errHStore, src, p.Key)
			}
			s = skipSpace(s[1:])
		}
	}
	return h, nil
}

// hstoreToken reads a quoted ("a\"b") or bare (ab) key or value.
func hstoreToken(s []byte) (string, []byte, error) {
	if len(s) == 0 {
		return "", s, errors.New("missing")
	}
	if s[0] != '"' {
		i := 0
		for i < len(s) && !isSpace(s[i]) && s[i] != ',' && s[i] != '=' && s[i] != '"' {
			i++
		}
		if i == 0 {
			return "", s, fmt.Errorf("unexpected %q", s[0])
		}
		return string(s[:i]), s[i:], nil
	}
	var out []byte
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return string(out), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", s, errors.New("unterminated escape")
			}
			i++
			out = append(out, s[i])
		default:
			out = append(out, c)
		}
	}
	return "", s, errors.New("unterminated quote")
}

// isUnquotedNull reports whether s starts with a bare NULL (any case) that
// ends there.
func isUnquotedNull(s []byte) bool {
	if len(s) < 4 || (s[0]|0x20) != 'n' || (s[1]|0x20) != 'u' || (s[2]|0x20) != 'l' || (s[3]|0x20) != 'l' {
		return false
	}
	return len(s) == 4 || isSpace(s[4]) || s[4] == ','
}

func skipSpace(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
