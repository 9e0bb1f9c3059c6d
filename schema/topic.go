package schema

import (
	"sync"
	"unicode/utf8"

	"github.com/walrelay/walrelay/event"
)

// MessageTopicSuffix is appended to the topic prefix for logical decoding
// messages, as Debezium's LogicalDecodingMessageMonitor does.
const MessageTopicSuffix = ".message"

// Topic returns the topic of a relation's changes: <prefix>.<schema>.<table>,
// with every character Kafka does not allow in a topic name (anything but
// letters, digits, '.', '_' and '-') replaced by '_', as Debezium's topic
// naming strategy does. Two tables whose names differ only in such characters
// share a topic, as they do under Debezium.
func Topic(prefix string, rel *event.Relation) string {
	return sanitizeTopic(prefix + "." + rel.Schema + "." + rel.Table)
}

// MessageTopic returns the topic of logical decoding messages: <prefix>.message.
func MessageTopic(prefix string) string {
	return sanitizeTopic(prefix + MessageTopicSuffix)
}

// topicChar reports whether c may appear in a Kafka topic name.
func topicChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// sanitizeTopic replaces illegal topic characters with '_' as Debezium's
// TopicNameSanitizer does: one '_' per Java char, so a character outside the
// Basic Multilingual Plane (a UTF-16 surrogate pair) becomes "__" and each
// byte of invalid UTF-8 becomes one '_'.
func sanitizeTopic(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !topicChar(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && topicChar(byte(r)):
			b = append(b, byte(r))
		case r > 0xFFFF:
			b = append(b, '_', '_')
		default:
			b = append(b, '_')
		}
	}
	return string(b)
}

// topicKey identifies a relation for the topic cache. Names are part of the
// key so a rename is never served a stale topic, whatever Version does.
type topicKey struct {
	oid           uint32
	version       int
	schema, table string
}

// topicCache memoises Topic per relation so the hot path does not build the
// same string for every change. It grows by one entry per relation version
// or rename. Safe for concurrent use.
type topicCache struct {
	prefix string
	mu     sync.RWMutex
	m      map[topicKey]string
	owners topicOwners
	shared func(SharedTopic) // Options.TopicShared; nil: not reported
}

func newTopicCache(prefix string, shared func(SharedTopic)) *topicCache {
	return &topicCache{prefix: prefix, m: make(map[topicKey]string), shared: shared}
}

// get returns the default topic of rel. The first time a relation version
// is asked for, a second table on the same topic (or one Kafka treats as
// the same) is reported to shared.
func (c *topicCache) get(rel *event.Relation) string {
	k := topicKey{oid: rel.OID, version: rel.Version, schema: rel.Schema, table: rel.Table}
	c.mu.RLock()
	t, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return t
	}
	t = Topic(c.prefix, rel)
	if st, ok := c.owners.claim(t, rel.OID, rel.QualifiedName()); ok && c.shared != nil {
		c.shared(st)
	}
	c.mu.Lock()
	c.m[k] = t
	c.mu.Unlock()
	return t
}

// forChange returns the topic of ch: the rule's route when the filter set
// one, else the relation's default topic.
func (c *topicCache) forChange(ch *event.Change) string {
	if ch.Topic != "" {
		return ch.Topic
	}
	return c.get(ch.Relation)
}
