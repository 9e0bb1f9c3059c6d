package filter

import (
	"github.com/walrelay/walrelay/event"
)

// TableTopics returns the topics that changes of table schema.table may be
// published on under these rules, in rule order without duplicates, where
// def is the table's default topic: the topic of each rule naming the table
// that keeps some operation no earlier rule without a where expression
// took (its topic template expanded, or def), or def when no rule names the table and
// the default is capture. Drop rules and outbox rules (routed by row values,
// unknown before a row arrives) add none; nor does a topic template that
// expands to a name Kafka forbids (the first change reports it). A rule
// whose where expression no row meets still adds its topic: that cannot be
// known ahead. The pipeline creates these topics before the snapshot.
//
// It reads only the loaded rules, so it is safe anywhere (unlike Apply).
func (rs *Rules) TableTopics(schema, table, def string) []string {
	rel := &event.Relation{Schema: schema, Table: table}
	name := rel.QualifiedName()
	var out []string
	add := func(t string) {
		for _, o := range out {
			if o == t {
				return
			}
		}
		out = append(out, t)
	}
	named := false
	open := opAll // operations no earlier rule without where took
	for _, r := range rs.Rules {
		if !r.matches(name) {
			continue
		}
		named = true
		if r.ops&open == 0 {
			continue // every operation it names was taken by an earlier rule
		}
		if !r.Drop && r.Outbox == nil {
			if t, ok := r.topicOf(schema, table, def); ok {
				add(t)
			}
		}
		if r.where == nil {
			open &^= r.ops
		}
	}
	if !named && rs.Default == DefaultCapture {
		add(def)
	}
	return out
}

// topicOf is r's topic for table schema.table whose default topic is def;
// false when its template expands to a name Kafka forbids.
func (r *Rule) topicOf(schema, table, def string) (string, bool) {
	if r.topic == nil {
		return def, true
	}
	t, err := r.topic.expand(func(v string) (string, error) {
		if v == "schema" {
			return schema, nil
		}
		return table, nil
	})
	return t, err == nil
}
