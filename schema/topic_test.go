package schema

import (
	"math"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
)

func TestTopic(t *testing.T) {
	t.Parallel()
	cases := []struct{ schema, table, want string }{
		{"public", "orders", "app.public.orders"},
		{"Sales", "Order-Lines_2", "app.Sales.Order-Lines_2"},
		{"public", "my table", "app.public.my_table"},
		{"public", "café", "app.public.caf_"},
		{"public", "t😀", "app.public.t__"}, // one '_' per UTF-16 unit, as Java
		{"public", "a\xffb", "app.public.a_b"},
		{"we$ird", "x/y", "app.we_ird.x_y"},
	}
	for _, c := range cases {
		got := Topic("app", &event.Relation{Schema: c.schema, Table: c.table})
		if got != c.want {
			t.Errorf("Topic(%q.%q) = %q, want %q", c.schema, c.table, got, c.want)
		}
	}
	if got := MessageTopic("app"); got != "app.message" {
		t.Errorf("MessageTopic = %q", got)
	}
}

func TestTopicCacheFollowsRenames(t *testing.T) {
	t.Parallel()
	c := newTopicCache("app", nil)
	rel := &event.Relation{OID: 1, Version: 1, Schema: "public", Table: "a"}
	if got := c.get(rel); got != "app.public.a" {
		t.Fatalf("get = %q", got)
	}
	renamed := *rel
	renamed.Table = "b"
	if got := c.get(&renamed); got != "app.public.b" {
		t.Fatalf("after rename get = %q", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		prefix string
		ok     bool
	}{
		{"app", true},
		{"app.prod-1_x", true},
		{"", false},
		{"app prod", false},
		{"app/x", false},
		{strings.Repeat("a", 201), false},
	} {
		o := Options{TopicPrefix: c.prefix}
		if err := o.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", c.prefix, err, c.ok)
		}
	}
}

func TestAppendEventIDMatchesFormatID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lsn event.LSN
		ord uint32
	}{{0, 0}, {0x16B3748, 5}, {math.MaxUint64, math.MaxUint32}, {0xABCDEF0123456789, 0x10}} {
		if got, want := string(appendEventID(nil, c.lsn, c.ord)), event.FormatID(c.lsn, c.ord); got != want {
			t.Errorf("appendEventID = %s, want %s", got, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	e := NewJSON(Options{TopicPrefix: "p"})
	if e.o.ToastPlaceholder != DefaultToastPlaceholder || e.o.Now == nil {
		t.Errorf("defaults not applied: %+v", e.o)
	}
	if e.o.Tombstones {
		t.Error("Tombstones must stay as given (false)")
	}
}
