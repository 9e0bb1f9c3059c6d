package schema

import (
	"sync"

	"github.com/walrelay/walrelay/event"
)

// span is a byte range [start, end) of a scratch buffer.
type span struct{ start, end int }

// appendString appends s to buf and records its range in sp.
func (sp *span) appendString(buf []byte, s string) []byte {
	sp.start = len(buf)
	buf = append(buf, s...)
	sp.end = len(buf)
	return buf
}

// slice returns the range of out with its capacity clipped, so appending to
// one record's bytes can never overwrite another's.
func (sp span) slice(out []byte) []byte { return out[sp.start:sp.end:sp.end] }

// recordLayout locates one record's parts in a scratch buffer. A record with
// no key (or no value) has hasKey (hasValue) false and a nil Key (Value).
type recordLayout struct {
	topic    string
	key      span
	hasKey   bool
	value    span
	hasValue bool
	headers  [numHeaders]span
	// extraKey names a header after the CloudEvents ones, valued extra:
	// only the key-change headers (see appendKeyHeader); "" for none.
	extraKey string
	extra    span
}

// recordBlock1 and recordBlock2 hold the records of one change and their
// headers, so that build allocates them together, sized to the change.
type recordBlock1 struct {
	recs [1]event.Record
	hdrs [numHeaders]event.Header
}

type recordBlock2 struct {
	recs [2]event.Record
	hdrs [2 * numHeaders]event.Header
}

// newRecords returns n (0, 1 or 2) zero records and n*numHeaders headers,
// in one allocation.
func newRecords(n int) ([]event.Record, []event.Header) {
	switch n {
	case 0:
		return nil, nil
	case 1:
		b := new(recordBlock1)
		return b.recs[:], b.hdrs[:]
	}
	b := new(recordBlock2)
	return b.recs[:], b.hdrs[:]
}

// build makes the records of layouts (one or two) from scratch, with the
// records and their headers and the bytes of every key, value and header
// value taken from a; records share no mutable memory
// with scratch or with each other. A layout's extra header follows the
// CloudEvents ones.
func build(a *arena, scratch []byte, layouts []recordLayout) []event.Record {
	out := a.copyOf(scratch)
	recs, hdrs := a.records(len(layouts), len(out))
	for i := range layouts {
		l := &layouts[i]
		r := &recs[i]
		r.Topic = l.topic
		if l.hasKey {
			r.Key = l.key.slice(out)
		}
		if l.hasValue {
			r.Value = l.value.slice(out)
		}
		h := hdrs[i*numHeaders : (i+1)*numHeaders : (i+1)*numHeaders]
		for j := range h {
			h[j] = event.Header{Key: headerKeys[j], Value: l.headers[j].slice(out)}
		}
		if l.extraKey != "" { // rare: a fresh slice, the block stays sized for the common case
			h = append(h, event.Header{Key: l.extraKey, Value: l.extra.slice(out)})
		}
		r.Headers = h
	}
	return recs
}

// maxPooledScratch bounds the scratch buffers kept for reuse, so one huge row
// does not pin its buffer for the life of the process.
const maxPooledScratch = 1 << 20

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// getScratch returns an empty scratch buffer from the pool.
func getScratch() *[]byte {
	p := scratchPool.Get().(*[]byte)
	*p = (*p)[:0]
	return p
}

// putScratch returns buf (grown as *p or replaced) to the pool.
func putScratch(p *[]byte, buf []byte) {
	if cap(buf) > maxPooledScratch {
		return
	}
	*p = buf[:0]
	scratchPool.Put(p)
}
