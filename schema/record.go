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
}

// build makes the records of layouts from scratch with three allocations:
// one byte slice holding every key, value and header value, one header slice
// and the record slice. Records share no mutable memory with scratch.
func build(scratch []byte, layouts []recordLayout) []event.Record {
	out := make([]byte, len(scratch))
	copy(out, scratch)
	hdrs := make([]event.Header, numHeaders*len(layouts))
	recs := make([]event.Record, len(layouts))
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
