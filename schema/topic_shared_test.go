package schema

import (
	"strings"
	"sync"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// TestSharedTopicsWarned: tables whose names sanitise to one topic, or to
// topics Kafka treats as one ('.' vs '_'), are reported once per pair by
// the encoder, naming both tables, the topic and the rule that parts them;
// a routed change and a renamed table (same OID) are not.
func TestSharedTopicsWarned(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []SharedTopic
	e := NewJSON(Options{TopicPrefix: "app", TopicShared: func(s SharedTopic) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}})
	rel := func(oid uint32, schema, table string) *event.Relation {
		return &event.Relation{OID: oid, Schema: schema, Table: table, ReplicaIdentity: event.IdentityDefault, Version: 1,
			Columns: []event.Column{{Name: "id", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true}}}
	}
	enc := func(r *event.Relation, topic string) {
		ch := change(event.OpCreate, r, nil, []any{int32(1)})
		ch.Topic = topic
		mustEncode(t, e, ch)
	}
	jp, cn := rel(1, "日本", "日本"), rel(2, "中国", "中国")
	enc(jp, "")
	enc(jp, "")
	enc(cn, "")
	enc(cn, "")
	enc(rel(3, "public", "a.b"), "")
	enc(rel(4, "public", "a_b"), "")
	enc(rel(5, "public", "a-b"), "")           // a legal, distinct topic
	enc(rel(6, "public", "a$b"), "app.routed") // routed: its default topic is not used
	enc(rel(4, "public", "a_c"), "")           // renamed: still one table
	if len(got) != 2 {
		t.Fatalf("reported %d collisions, want 2: %+v", len(got), got)
	}
	if g := got[0]; g.Table != "中国.中国" || g.Other != "日本.日本" || g.Topic != "app.__.__" || g.OtherTopic != "app.__.__" ||
		!strings.Contains(g.Message(), "share topic app.__.__") || !strings.Contains(g.Fix(), `"中国.中国"`) {
		t.Errorf("first = %+v: %s; fix: %s", g, g.Message(), g.Fix())
	}
	if g := got[1]; g.Table != "public.a_b" || g.Other != "public.a.b" || !strings.Contains(g.Message(), "'.' and '_'") {
		t.Errorf("second = %+v: %s", g, g.Message())
	}
}

func TestSharedTopicsOfNames(t *testing.T) {
	t.Parallel()
	got := SharedTopics("app", []string{`"x.y".z`, `x.y.z`, "public.orders", `"my schema".t`, `my_schema.t`, `my_schema.t`})
	if len(got) != 2 || got[0].Table != "x.y.z" || got[0].Other != `"x.y".z` || got[1].Table != "my_schema.t" {
		t.Errorf("SharedTopics = %+v", got)
	}
}

// The warning for "x.y".z and x."y.z" says they collide through the dots
// (naming both unambiguously), not through characters written as '_'.
func TestSharedTopicDotsMessage(t *testing.T) {
	t.Parallel()
	got := SharedTopics("app", []string{`"x.y".z`, `x."y.z"`, "日本.日本", "中国.中国"})
	if len(got) != 2 {
		t.Fatalf("SharedTopics = %+v", got)
	}
	m := got[0].Message()
	if strings.Contains(m, "'_'") || !strings.Contains(m, `"x.y"."z" and "x"."y.z"`) || !strings.Contains(m, "with '.'") {
		t.Errorf("dots: %s", m)
	}
	if m := got[1].Message(); !strings.Contains(m, "each written as '_'") {
		t.Errorf("sanitised: %s", m)
	}
}
