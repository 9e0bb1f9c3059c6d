package decoder

import (
	"reflect"
	"testing"

	"github.com/walrelay/walrelay/event"
)

func TestHStore(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want event.HStore
	}{
		{``, event.HStore{}},
		{`"a"=>"1"`, event.HStore{{Key: "a", Value: "1"}}},
		{`"a"=>"1", "bb"=>NULL`, event.HStore{{Key: "a", Value: "1"}, {Key: "bb", Null: true}}},
		{`"q\"k"=>"back\\slash", "e"=>""`, event.HStore{{Key: `q"k`, Value: `back\slash`}, {Key: "e"}}},
		{`"n"=>"NULL"`, event.HStore{{Key: "n", Value: "NULL"}}}, // the string, not NULL
		{`a=>b ,c => null`, event.HStore{{Key: "a", Value: "b"}, {Key: "c", Null: true}}},
		{`"ü"=>"日本"`, event.HStore{{Key: "ü", Value: "日本"}}},
	} {
		got, err := convHStore([]byte(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("convHStore(%s) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`"a"`, `"a"=>`, `"a"=>"1" "b"=>"2"`, `"a=>"1"`, `=>"1"`, `"a"=>"1\`, `"a"->"1"`} {
		if got, err := convHStore([]byte(bad)); err == nil {
			t.Errorf("convHStore(%s) = %#v, want an error", bad, got)
		}
	}
}

// FuzzHStore: the parser never panics, and what it accepts round-trips
// through hstore's output form.
func FuzzHStore(f *testing.F) {
	for _, s := range []string{``, `"a"=>"1", "bb"=>NULL`, `"q\"k"=>"back\\slash"`, `a=>b`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := convHStore(src)
		if err != nil {
			return
		}
		h := v.(event.HStore)
		again, err := convHStore(hstoreText(h))
		if err != nil || !reflect.DeepEqual(again, h) {
			t.Fatalf("%q parsed to %#v; its output form %q parsed to %#v, %v", src, h, hstoreText(h), again, err)
		}
	})
}

// hstoreText writes h as hstore_out does.
func hstoreText(h event.HStore) []byte {
	var b []byte
	for i, p := range h {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendHStoreQuoted(b, p.Key)
		b = append(b, "=>"...)
		if p.Null {
			b = append(b, "NULL"...)
			continue
		}
		b = appendHStoreQuoted(b, p.Value)
	}
	return b
}

func appendHStoreQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
