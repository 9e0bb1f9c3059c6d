package schema

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// fixedPlan holds the wire headers of one topic's key and value schemas for
// records whose schemas do not depend on a table: logical decoding messages
// (avro_message.go) and transaction metadata (txmeta_avro.go).
type fixedPlan struct {
	keyHdr, valueHdr [wireHeaderLen]byte
}

// fixedSchemas names a kind of such records and gives its two schema texts.
type fixedSchemas struct {
	what       string // for errors and logs, e.g. "logical message"
	key, value string
}

// fixedPlanCache holds an encoder's plans of one record kind by topic. Each
// topic's schemas are registered under its own TopicNameStrategy subjects,
// <topic>-key and <topic>-value, once, on the topic's first record; later
// records make no registry call. Safe for concurrent use.
type fixedPlanCache struct {
	plans sync.Map   // topic -> *fixedPlan
	mu    sync.Mutex // serialises registrations
}

// plan returns topic's plan, registering s.key under <topic>-key and
// s.value under <topic>-value on first use, within timeout, with the
// compatibility handling reg applies to every subject. A registry failure
// is returned naming the subject, and nothing is cached.
func (c *fixedPlanCache) plan(topic string, s *fixedSchemas, reg Registry, timeout time.Duration, log zerolog.Logger) (*fixedPlan, error) {
	if p, ok := c.plans.Load(topic); ok {
		return p.(*fixedPlan), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.plans.Load(topic); ok {
		return p.(*fixedPlan), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	keySubject, valueSubject := topic+"-key", topic+"-value"
	keyID, err := reg.ID(ctx, keySubject, s.key)
	if err != nil {
		return nil, fmt.Errorf("registering the %s key schema (subject %q): %w", s.what, keySubject, err)
	}
	valueID, err := reg.ID(ctx, valueSubject, s.value)
	if err != nil {
		return nil, fmt.Errorf("registering the %s value schema (subject %q): %w", s.what, valueSubject, err)
	}
	p := &fixedPlan{keyHdr: wireHeader(keyID), valueHdr: wireHeader(valueID)}
	c.plans.Store(topic, p)
	log.Info().Str("topic", topic).Int("key_schema_id", keyID).Int("value_schema_id", valueID).
		Msg(s.what + " avro schemas ready")
	return p, nil
}
