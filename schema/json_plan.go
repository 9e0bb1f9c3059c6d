package schema

import (
	"sync"

	"github.com/walrelay/walrelay/event"
)

// jsonPlan is what the JSON encoder prints the same for every change of one
// relation, escaped once: the default topic, each column's `"name":` and
// the source block's `,"schema":...,"table":...`.
type jsonPlan struct {
	rel    *event.Relation
	topic  string
	names  []string // names[i] is column i's JSON name and colon
	tables string   // `,"schema":<schema>,"table":<table>`
}

// newJSONPlan escapes rel's names.
func newJSONPlan(prefix string, rel *event.Relation) *jsonPlan {
	p := &jsonPlan{rel: rel, topic: Topic(prefix, rel), names: make([]string, len(rel.Columns))}
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

// jsonPlans holds the newest plan per relation OID. A plan serves a
// relation that is the one it was made for, or the same version with the
// same columns (a relation rebuilt with the same content, as a snapshot
// does). Safe for concurrent use.
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
	if p != nil && (p.rel == rel || p.rel.Version == rel.Version && sameRelation(p.rel, rel)) {
		return p
	}
	p = newJSONPlan(c.prefix, rel)
	c.mu.Lock()
	c.m[rel.OID] = p
	c.mu.Unlock()
	return p
}
