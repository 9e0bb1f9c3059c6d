package schema

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// avroPlan is everything the hot path needs to encode changes of one
// relation version: the topic, the Confluent headers carrying the key and
// value schema IDs, and the fields of the Key and Value records. It is
// derived, and its schemas registered, once per relation version.
type avroPlan struct {
	rel          *event.Relation
	topic        string
	hasKey       bool
	keyHdr       [wireHeaderLen]byte
	valueHdr     [wireHeaderLen]byte
	key          []avroField // key columns, required
	value        []avroField // every column; key columns required, the rest optional
	keySchema    string
	valueSchema  string
	keySubject   string
	valueSubject string
	keyID        int
	valueID      int
}

// planCache holds the plan of the latest version of each relation, by OID
// and topic (a rule may route a table elsewhere, and subjects follow the
// topic): DROP TABLE + CREATE TABLE under the same name is a new OID, so a new
// plan. Lookups share a read lock; derivations (which may call the registry)
// are serialised.
type planCache struct {
	mu      sync.RWMutex
	m       map[planKey]*avroPlan
	deriveM sync.Mutex
}

type planKey struct {
	oid   uint32
	topic string
}

// plan returns the plan of rel, deriving and registering it on first use of
// this relation version. The fast path is one map lookup under a read lock
// and a pointer comparison.
func (e *AvroEncoder) plan(rel *event.Relation, topic string) (*avroPlan, error) {
	k := planKey{oid: rel.OID, topic: topic}
	e.plans.mu.RLock()
	p := e.plans.m[k]
	e.plans.mu.RUnlock()
	if p != nil && p.rel == rel {
		return p, nil
	}
	e.plans.deriveM.Lock()
	defer e.plans.deriveM.Unlock()
	e.plans.mu.RLock()
	p = e.plans.m[k]
	e.plans.mu.RUnlock()
	if p != nil && (p.rel == rel || p.rel.Version == rel.Version && sameRelation(p.rel, rel)) {
		return p, nil
	}
	if p == nil { // first sight in this encoder: what the process knows
		p = e.ao.Memory.last(k)
	}
	np, err := e.derive(rel, topic, p)
	if err != nil {
		return nil, err
	}
	e.plans.mu.Lock()
	e.plans.m[k] = np
	e.plans.mu.Unlock()
	e.ao.Memory.keep(k, np)
	return np, nil
}

// sameRelation reports whether a and b describe the same columns, names,
// identity and key order (a relation rebuilt with the same content).
func sameRelation(a, b *event.Relation) bool {
	if a.Schema != b.Schema || a.Table != b.Table || a.ReplicaIdentity != b.ReplicaIdentity ||
		len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			return false
		}
	}
	return slices.Equal(a.KeyColumns(), b.KeyColumns())
}

// buildPlan derives the fields and schema texts of rel (no registry call),
// naming the fields after prior, the fields of its previous schema.
func (e *AvroEncoder) buildPlan(rel *event.Relation, topic string, prior priorFields) *avroPlan {
	p := &avroPlan{rel: rel, topic: topic}
	p.keySubject, p.valueSubject = subjects(topic)
	names := make([]string, len(rel.Columns))
	for i := range rel.Columns {
		names[i] = rel.Columns[i].Name
	}
	fnames := fieldNames(names, prior)
	p.value = make([]avroField, len(rel.Columns))
	for i := range rel.Columns {
		col := &rel.Columns[i]
		t := e.o.withModes(columnType(col), col)
		p.value[i] = avroField{name: fnames[i], col: i, column: col, t: t, optional: !col.Key,
			ph: placeholderFor(t, col, e.ph)}
	}
	for _, i := range rel.KeyColumns() { // key order, as Debezium's Key record
		p.hasKey = true
		p.key = append(p.key, p.value[i])
	}
	keyName, valueName, envName := relationNames(e.o.TopicPrefix, rel)
	if p.hasKey {
		p.keySchema = keySchema(keyName, p.key)
	}
	p.valueSchema = valueSchema(valueName, envName, p.value)
	return p
}

// subjects returns the TopicNameStrategy subjects of topic.
func subjects(topic string) (key, value string) { return topic + "-key", topic + "-value" }

// derive builds the plan of rel and registers its schemas: the key's,
// then the value's, also when the key's is refused as incompatible, so that
// one error names every subject that refuses the change (the value schema
// is registered if it is compatible). prev is the
// plan of the relation's previous version, if any: its field names are
// kept (see priorNames), and it names the PostgreSQL types in an
// incompatible-change error.
func (e *AvroEncoder) derive(rel *event.Relation, topic string, prev *avroPlan) (*avroPlan, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e.ao.RegistryTimeout)
	defer cancel()
	prior, err := e.priorNames(ctx, rel, topic, prev)
	if err != nil {
		return nil, err
	}
	p := e.buildPlan(rel, topic, prior)
	var keyErr *IncompatibleChangeError // the value subject is checked too: one error names both
	if p.hasKey {
		if p.keyID, err = e.ao.Registry.ID(ctx, p.keySubject, p.keySchema); err != nil {
			err = e.registryError(rel, p, prev, true, err)
			if !errors.As(err, &keyErr) {
				return nil, err
			}
		}
		p.keyHdr = wireHeader(p.keyID)
	}
	if p.valueID, err = e.ao.Registry.ID(ctx, p.valueSubject, p.valueSchema); err != nil {
		err = e.registryError(rel, p, prev, false, err)
		var valueErr *IncompatibleChangeError
		if keyErr != nil && errors.As(err, &valueErr) {
			keyErr.Also = append(keyErr.Also, valueErr)
		}
		if keyErr == nil {
			return nil, err
		}
	}
	if keyErr != nil {
		return nil, keyErr
	}
	p.valueHdr = wireHeader(p.valueID)
	// Debug: it comes for every table after each start; a new schema
	// version follows a "relation changed" line at info.
	ev := e.ao.Log.Debug().Str("table", rel.QualifiedName()).Int("relation_version", rel.Version).
		Str("topic", p.topic).Int("value_schema_id", p.valueID)
	if p.hasKey {
		ev = ev.Int("key_schema_id", p.keyID)
	}
	ev.Msg("avro schemas ready")
	return p, nil
}

// priorNames returns the fields whose names rel's columns keep: those of
// prev, the relation's previous plan in this encoder or, from
// AvroOptions.Memory, in an earlier encoder of the process, else those of
// the latest schema registered under its value subject (after a process
// restart, or for a table dropped and created again), read when the
// Registry is a LatestRegistry. A registry failure is returned naming the table and
// subject, so the encoding halts and is retried: deriving names without the
// registered ones could give a column another column's field name.
func (e *AvroEncoder) priorNames(ctx context.Context, rel *event.Relation, topic string, prev *avroPlan) (priorFields, error) {
	if prev != nil {
		return priorFromPlan(prev), nil
	}
	lr, ok := e.ao.Registry.(LatestRegistry)
	if !ok {
		return priorFields{}, nil
	}
	_, subject := subjects(topic)
	latest, found, err := lr.LatestRegistered(ctx, subject)
	if err != nil {
		return priorFields{}, fmt.Errorf("schema: reading the latest Avro schema of table %s (subject %q) to keep its field names: %w",
			rel.QualifiedName(), subject, err)
	}
	if !found {
		return priorFields{}, nil
	}
	pf, err := priorFromSchema(latest)
	if err != nil {
		return priorFields{}, fmt.Errorf("schema: the latest Avro schema of table %s (subject %q) does not parse: %w",
			rel.QualifiedName(), subject, err)
	}
	return pf, nil
}

// registryError wraps a registry failure for the table; an incompatible
// schema becomes an *IncompatibleChangeError naming the columns.
func (e *AvroEncoder) registryError(rel *event.Relation, p, prev *avroPlan, key bool, err error) error {
	var ie *registry.IncompatibleError
	if errors.As(err, &ie) {
		return newIncompatibleChange(rel, p, prev, key, ie, e.ao.RegistryURL)
	}
	subject := p.valueSubject
	if key {
		subject = p.keySubject
	}
	return fmt.Errorf("schema: registering the Avro schema of table %s (subject %q): %w",
		rel.QualifiedName(), subject, err)
}

// wireHeaderLen is the length of the Confluent wire-format header.
const wireHeaderLen = 5

// wireHeader returns the Confluent header of schema id: magic byte 0 and
// the ID as 4 bytes big-endian.
func wireHeader(id int) [wireHeaderLen]byte {
	var h [wireHeaderLen]byte
	binary.BigEndian.PutUint32(h[1:], uint32(id))
	return h
}
