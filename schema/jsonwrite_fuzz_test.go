package schema

import (
	"testing"
	"unicode/utf8"
)

// FuzzAppendJSONString: the word-at-a-time appendJSONString writes exactly
// what the byte-at-a-time version it replaced wrote, and valid JSON that
// decodes to the input (invalid UTF-8 as U+FFFD), for any input.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain text of some length", `{"a": "b\\c"}`, "tab\there\n",
		"é日本😀 mixed with ascii words", "a\xffb\xe6\x97", "\x00\x01\x1f\x7f", "12345678\"12345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString([]byte("x"), s)
		want := appendJSONStringByte([]byte("x"), s)
		if string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want[1:])
		}
		checkStringRoundTrip(t, s, got[1:])
	})
}

// TestPlainWord checks plainWord against the byte rule for every byte value
// at every position of a word of plain bytes.
func TestPlainWord(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			want := c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\'
			if got := plainWord(load64(string(b), 0)); got != want {
				t.Errorf("plainWord with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}

// appendJSONStringByte is appendJSONString as it was before it skipped
// plain words: one byte at a time (escapes by the same appendJSONEscape,
// which TestAppendJSONString checks). The reference of FuzzAppendJSONString.
func appendJSONStringByte(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				dst = appendJSONEscape(append(dst, s[start:i]...), c)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			start = i + 1
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
