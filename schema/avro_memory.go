package schema

import "sync"

// AvroMemory is what the Avro encoders of one process learned about each
// relation's schemas, kept across encoders: the pipeline builds an encoder
// per session, and a session restarted after a halt must not need the
// registry for a table whose schemas this process already derived. It
// holds the latest plan derived for each relation (by OID and topic); an
// encoder without a plan of its own for a relation takes that plan as the
// relation's previous one (its field names, and its types for an
// incompatible-change error) instead of reading the subject's latest schema
// from the registry. With the Registry's own ID cache (registry.Client), a
// new encoder then makes no registry call for a relation whose schemas are
// unchanged. Safe for concurrent use; the zero value is not usable, use
// NewAvroMemory.
type AvroMemory struct {
	mu sync.Mutex
	m  map[planKey]*avroPlan
}

// NewAvroMemory returns an empty memory. The pipeline keeps one per Run
// (process), next to the registry client.
func NewAvroMemory() *AvroMemory { return &AvroMemory{m: map[planKey]*avroPlan{}} }

// last returns the latest plan remembered for k, or nil (also for a nil
// memory).
func (am *AvroMemory) last(k planKey) *avroPlan {
	if am == nil {
		return nil
	}
	am.mu.Lock()
	defer am.mu.Unlock()
	return am.m[k]
}

// keep remembers p as the latest plan of k (a no-op on a nil memory).
func (am *AvroMemory) keep(k planKey, p *avroPlan) {
	if am == nil {
		return
	}
	am.mu.Lock()
	am.m[k] = p
	am.mu.Unlock()
}
