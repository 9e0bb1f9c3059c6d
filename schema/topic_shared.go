package schema

import (
	"fmt"
	"strings"
	"sync"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/pgident"
)

// SharedTopic is two tables whose default topics (Topic) are one topic,
// because their names differ only in characters Kafka does not allow
// ("日本"."日本" and "中国"."中国" both go to <prefix>.__.__), or two
// topics Kafka treats as one (it refuses a topic whose name equals an
// existing one's with '.' and '_' swapped: <prefix>.public.a.b and
// <prefix>.public.a_b). Their events would be mixed in one topic, keys
// colliding, or the second topic cannot be created.
type SharedTopic struct {
	Table, Topic      string // the table found second, and its topic
	Other, OtherTopic string
}

// Message describes the collision for a log line or `walrelay check`.
func (s SharedTopic) Message() string {
	if s.Topic == s.OtherTopic && joinedAlike(s.Other, s.Table) {
		return fmt.Sprintf("tables %s and %s share topic %s (the topic joins schema and table with '.', and %s and %s "+
			"join to the same name): their events are mixed in one topic, keys colliding", s.Other, s.Table, s.Topic,
			pgident.SQLName(s.Other), pgident.SQLName(s.Table))
	}
	if s.Topic == s.OtherTopic {
		return fmt.Sprintf("tables %s and %s share topic %s (their names differ only in characters a topic name "+
			"cannot hold, each written as '_'): their events are mixed in one topic, keys colliding", s.Other, s.Table, s.Topic)
	}
	return fmt.Sprintf("the topics of tables %s (%s) and %s (%s) collide: Kafka treats '.' and '_' in topic names "+
		"as the same and refuses to create the second", s.Other, s.OtherTopic, s.Table, s.Topic)
}

// joinedAlike reports whether tables a and b (qualified names) differ only
// in where their dots part schema from table ("x.y".z and x."y.z").
func joinedAlike(a, b string) bool {
	as, at, aok := pgident.Cut(a)
	bs, bt, bok := pgident.Cut(b)
	return aok && bok && as+"."+at == bs+"."+bt
}

// Fix says how to part the two tables: a rule routing one of them.
func (s SharedTopic) Fix() string {
	return fmt.Sprintf("give one of them its own topic with a rule in the rules file, e.g. "+
		"{tables: [%q], topic: %q}", s.Table, s.Topic+"_2")
}

// topicCollisionKey is what Kafka compares topic names by when it looks
// for a collision: '.' and '_' are the same.
func topicCollisionKey(topic string) string { return strings.ReplaceAll(topic, ".", "_") }

// SharedTopics returns the collisions among the default topics of tables
// (qualified names, pgident.Parse; names that do not parse are skipped),
// each pair once, in the order of tables.
func SharedTopics(prefix string, tables []string) []SharedTopic {
	var owners topicOwners
	var out []SharedTopic
	for _, name := range tables {
		s, t, ok := pgident.Cut(name)
		if !ok {
			continue
		}
		rel := &event.Relation{Schema: s, Table: t}
		if c, ok := owners.claim(Topic(prefix, rel), 0, name); ok {
			out = append(out, c)
		}
	}
	return out
}

// topicOwner is the first table seen on a topic (by collision key).
type topicOwner struct {
	oid         uint32
	name, topic string
}

// topicOwners remembers which table each default topic went to first, so
// the encoders can report a second table on it once. Safe for concurrent
// use; the zero value is ready.
type topicOwners struct {
	mu       sync.Mutex
	m        map[string]topicOwner
	reported map[[2]string]bool
}

// claim records that table name (oid; 0 when unknown) uses topic and
// reports a collision with another table already on it (or on a topic
// Kafka treats as the same), once per pair. The same OID under a new name
// (a renamed table) is no collision.
func (o *topicOwners) claim(topic string, oid uint32, name string) (SharedTopic, bool) {
	k := topicCollisionKey(topic)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m, o.reported = map[string]topicOwner{}, map[[2]string]bool{}
	}
	prev, ok := o.m[k]
	if !ok || prev.name == name || oid != 0 && prev.oid == oid {
		o.m[k] = topicOwner{oid: oid, name: name, topic: topic}
		return SharedTopic{}, false
	}
	pair := [2]string{prev.name, name}
	if o.reported[pair] {
		return SharedTopic{}, false
	}
	o.reported[pair] = true
	return SharedTopic{Table: name, Topic: topic, Other: prev.name, OtherTopic: prev.topic}, true
}
