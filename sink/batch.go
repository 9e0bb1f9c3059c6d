package sink

import (
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/event"
)

// Offsets in a record batch (message format v2, KIP-98) of the fields
// appendRecordBatch fills in after writing the records.
const (
	batchLengthAt    = 8  // int32: bytes after this field
	batchCRCAt       = 17 // uint32: CRC-32C of attributes..end
	batchAttrsAt     = 21 // first byte the CRC covers
	batchHeaderBytes = 61 // fixed part, before the first record
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecordBatch appends recs to dst as one uncompressed Kafka record
// batch (magic 2), every record stamped with the create time nowMs and
// carrying its headers followed by extra, from producer p with base
// sequence seq (ignored, and -1 in the batch, when p is noProducer). With
// noProducer it is what kafka-go's RecordSet writes for the same records,
// built in one pass over one buffer: kafka-go's encoder, with its
// per-record interfaces and readers, was a sixth of walrelay's CPU.
func appendRecordBatch(dst []byte, recs []*event.Record, extra []kafka.Header, nowMs int64, p producer, seq int32) []byte {
	if p == noProducer {
		seq = -1
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, 0)                   // base offset
	dst = binary.BigEndian.AppendUint32(dst, 0)                   // batch length, below
	dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)          // partition leader epoch: -1
	dst = append(dst, 2)                                          // magic
	dst = binary.BigEndian.AppendUint32(dst, 0)                   // CRC, below
	dst = binary.BigEndian.AppendUint16(dst, 0)                   // attributes: no compression, create time
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(recs)-1)) // last offset delta
	dst = binary.BigEndian.AppendUint64(dst, uint64(nowMs))       // first timestamp
	dst = binary.BigEndian.AppendUint64(dst, uint64(nowMs))       // max timestamp
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.id))        // producer id
	dst = binary.BigEndian.AppendUint16(dst, uint16(p.epoch))     // producer epoch
	dst = binary.BigEndian.AppendUint32(dst, uint32(seq))         // base sequence
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(recs)))   // records
	for i, r := range recs {
		dst = appendRecord(dst, r, extra, int64(i))
	}
	b := dst[start:]
	binary.BigEndian.PutUint32(b[batchLengthAt:], uint32(len(b)-batchLengthAt-4))
	binary.BigEndian.PutUint32(b[batchCRCAt:], crc32.Checksum(b[batchAttrsAt:], castagnoli))
	return dst
}

// appendRecord appends one record of a batch: its length, then attributes,
// timestamp delta (0), offset delta, key, value and headers.
func appendRecord(dst []byte, r *event.Record, extra []kafka.Header, offsetDelta int64) []byte {
	n := len(r.Headers) + len(extra)
	size := 1 + 1 + varintLen(offsetDelta) + bytesLen(r.Key) + bytesLen(r.Value) + varintLen(int64(n))
	for _, h := range r.Headers {
		size += stringLen(h.Key) + bytesLen(h.Value)
	}
	for _, h := range extra {
		size += stringLen(h.Key) + bytesLen(h.Value)
	}
	dst = binary.AppendVarint(dst, int64(size))
	dst = append(dst, 0, 0) // attributes, timestamp delta 0
	dst = binary.AppendVarint(dst, offsetDelta)
	dst = appendNullableBytes(dst, r.Key)
	dst = appendNullableBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(n))
	for _, h := range r.Headers {
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendNullableBytes(dst, h.Value)
	}
	for _, h := range extra {
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendNullableBytes(dst, h.Value)
	}
	return dst
}

// appendNullableBytes appends b as a varint length and the bytes; nil is
// length -1 (a null key, or a tombstone's null value).
func appendNullableBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// rawRecordSet returns recs as the record set of a produce request: the
// batch's size (int32) followed by the batch, as kafka-go's RecordSet writes
// it and as its RawRecordSet must hold it.
func rawRecordSet(recs []*event.Record, extra []kafka.Header, nowMs int64) []byte {
	return appendRecordSet(nil, recs, extra, nowMs, noProducer, -1)
}

// appendRecordSet is rawRecordSet into buf's storage (grown when too small),
// from producer p with base sequence seq (see appendRecordBatch).
func appendRecordSet(buf []byte, recs []*event.Record, extra []kafka.Header, nowMs int64, p producer, seq int32) []byte {
	if need := 4 + recordBatchSize(recs, extra); cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	b := append(buf[:0], 0, 0, 0, 0)
	b = appendRecordBatch(b, recs, extra, nowMs, p, seq)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// recordSets recycles record-set buffers (*[]byte). A buffer goes back only
// once the broker answered the request that carried it: a request abandoned
// on error or timeout may still be read by kafka-go's connection goroutine.
// Without it every batch allocated, and the runtime zeroed, up to
// BatchMaxBytes: about 6% of walrelay's CPU at a steady 100k rows/s.
var recordSets = sync.Pool{New: func() any { return new([]byte) }}

// putRecordSet returns buf to recordSets unless it is more than twice
// batchMax (the sink's BatchMaxBytes): a buffer that carried one large
// record would otherwise be kept, reused by every later batch, for as long
// as records flow (invariant 5).
func putRecordSet(buf *[]byte, batchMax int) {
	if cap(*buf) > 2*batchMax {
		return
	}
	recordSets.Put(buf)
}

// recordBatchSize is an upper bound of the bytes appendRecordBatch appends.
func recordBatchSize(recs []*event.Record, extra []kafka.Header) int {
	n := batchHeaderBytes
	for _, r := range recs {
		n += 2*binary.MaxVarintLen64 + 2 + bytesLen(r.Key) + bytesLen(r.Value) + binary.MaxVarintLen32
		for _, h := range r.Headers {
			n += stringLen(h.Key) + bytesLen(h.Value)
		}
		for _, h := range extra {
			n += stringLen(h.Key) + bytesLen(h.Value)
		}
	}
	return n
}

func varintLen(v int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], v)
}

func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

func stringLen(s string) int { return varintLen(int64(len(s))) + len(s) }
