package schema

import (
	"sync"
	"sync/atomic"

	"github.com/walrelay/walrelay/event"
)

// jsonPlan is what the JSON encoder prints the same for every change of one
// relation, escaped once: the default topic, each column's `"name":` and
// the source block's `,"schema":...,"table":...`.
type jsonPlan struct {
	rel   *event.Relation
	topic string
	// noted: a change went to topic and the encoder's topic cache knows it
	// (collisions, Options.TopicShared); set once, read per change.
	noted  atomic.Bool
	names  []string // names[i] is column i's JSON name and colon
	tables string   // `,"schema":<schema>,"table":<table>`
}

// newJSONPlan escapes rel's names; topic is rel's default topic.
func newJSONPlan(rel *event.Relation, topic string) *jsonPlan {
	p := &jsonPlan{rel: rel, topic: topic, names: make([]string, len(rel.Columns))}
	for i := range rel.Columns {
		p.names[i] = string(append(appendJSONString(nil, rel.Columns[i].Name), ':'))
	}
	p.tables = string(appendJSONTables(nil, rel.Schema, rel.Table))
	return p
}

// appendJSONTables appends the source block's schema and table fields.
func appendJSONTables(buf []byte, schema, table string) []byte {
	buf = append(buf, `,"schema":`...)
	buf = appendJSONString(buf, schema)
	buf = append(buf, `,"table":`...)
	return appendJSONString(buf, table)
}

// jsonPlans holds the newest plan per relation OID. A plan serves the
// relation it was made for and any other with the same schema, table and
// column names (what it holds), whatever their versions: a snapshot's
// relation and the stream's then share it. Safe for concurrent use.
type jsonPlans struct {
	prefix string
	mu     sync.RWMutex
	m      map[uint32]*jsonPlan
}

func newJSONPlans(prefix string) *jsonPlans {
	return &jsonPlans{prefix: prefix, m: make(map[uint32]*jsonPlan)}
}

// get returns the plan of rel, making it on first use and after a change.
func (c *jsonPlans) get(rel *event.Relation) *jsonPlan {
	c.mu.RLock()
	p := c.m[rel.OID]
	c.mu.RUnlock()
	if p != nil && (p.rel == rel || sameNames(p.rel, rel)) {
		return p
	}
	p = newJSONPlan(rel, Topic(c.prefix, rel))
	c.mu.Lock()
	c.m[rel.OID] = p
	c.mu.Unlock()
	return p
}

// sameNames reports whether a and b have the same schema, table and column
// names, in order.
func sameNames(a, b *event.Relation) bool {
	if a.Schema != b.Schema || a.Table != b.Table || len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i].Name != b.Columns[i].Name {
			return false
		}
	}
	return true
}
