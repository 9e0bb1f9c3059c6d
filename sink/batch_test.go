package sink

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/walrelay/walrelay/event"
)

// kafkaGoBatch is what kafka-go's own encoder writes for recs (with extra
// headers) at nowMs: the record set, a 4-byte size and the batch.
func kafkaGoBatch(t testing.TB, recs []*event.Record, extra []kafka.Header, nowMs int64) []byte {
	t.Helper()
	krecs := toKafka(recs, extra)
	for i := range krecs {
		krecs[i].Time = time.UnixMilli(nowMs)
	}
	rs := protocol.RecordSet{Version: 2, Records: protocol.NewRecordReader(krecs...)}
	var buf bytes.Buffer
	if _, err := rs.WriteTo(&buf); err != nil {
		t.Fatalf("kafka-go RecordSet.WriteTo: %v", err)
	}
	return buf.Bytes()
}

// readBatch decodes a record set with kafka-go's reader.
func readBatch(t testing.TB, framed []byte) []protocol.Record {
	t.Helper()
	var rs protocol.RecordSet
	if _, err := rs.ReadFrom(bytes.NewReader(framed)); err != nil {
		t.Fatalf("kafka-go cannot read the batch: %v", err)
	}
	var out []protocol.Record
	for {
		r, err := rs.Records.ReadRecord()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("ReadRecord: %v", err)
		}
		out = append(out, *r)
	}
}

func sampleRecords() []*event.Record {
	return []*event.Record{
		{Topic: "t", Key: []byte(`{"id":1}`), Value: []byte(`{"op":"c"}`),
			Headers: []event.Header{{Key: "ce_id", Value: []byte("0/16B3748:1")}, {Key: "empty", Value: []byte{}}}},
		{Topic: "t", Key: []byte(`{"id":1}`), Value: nil}, // tombstone
		{Topic: "t", Key: nil, Value: bytes.Repeat([]byte("v"), 300)},
	}
}

// TestRecordSetReusesBuffer: a buffer that held a larger batch is reused
// in place, and what it held before does not leak into the new batch.
func TestRecordSetReusesBuffer(t *testing.T) {
	recs := sampleRecords()
	big := appendRecordSet(nil, append(recs, recs...), nil, 1, noProducer, -1)
	small := appendRecordSet(big, recs[:2], nil, 2, noProducer, -1)
	if &small[0] != &big[0] {
		t.Error("a large enough buffer was not reused")
	}
	if want := rawRecordSet(recs[:2], nil, 2); !bytes.Equal(small, want) {
		t.Fatalf("batch in a used buffer differs:\n got %x\nwant %x", small, want)
	}
}

// TestRecordSetPoolSkipsLarge: a record-set buffer of more than twice
// BatchMaxBytes (a batch of one large record) does not go back to the
// pool, where every later batch would reuse it and keep it in memory.
func TestRecordSetPoolSkipsLarge(t *testing.T) {
	big := make([]byte, 0, 2*DefaultBatchMaxBytes+1)
	putRecordSet(&big, DefaultBatchMaxBytes)
	for range 4 {
		if p := recordSets.Get().(*[]byte); p == &big {
			t.Fatalf("a %d-byte record-set buffer was pooled with BatchMaxBytes %d", cap(big), DefaultBatchMaxBytes)
		}
	}
}

// TestRecordBatchProducer: an idempotent batch carries the producer id,
// epoch and base sequence, kafka-go reads it back with its records, and the
// CRC covers them; noProducer writes -1 whatever the sequence.
func TestRecordBatchProducer(t *testing.T) {
	recs := sampleRecords()
	for _, c := range []struct {
		p       producer
		seq     int32
		wantSeq int32
	}{{producer{id: 4242, epoch: 3}, 17, 17}, {noProducer, 17, -1}} {
		set := appendRecordSet(nil, recs, nil, 1, c.p, c.seq)
		var rs protocol.RecordSet
		if _, err := rs.ReadFrom(bytes.NewReader(set)); err != nil {
			t.Fatalf("kafka-go cannot read the batch: %v", err)
		}
		stream, ok := rs.Records.(*protocol.RecordStream)
		if !ok || len(stream.Records) != 1 {
			t.Fatalf("records are a %T: %+v", rs.Records, rs.Records)
		}
		b, ok := stream.Records[0].(*protocol.RecordBatch)
		if !ok {
			t.Fatalf("the batch is a %T", stream.Records[0])
		}
		if b.ProducerID != c.p.id || b.ProducerEpoch != c.p.epoch || b.BaseSequence != c.wantSeq {
			t.Errorf("producer %d epoch %d sequence %d, want %d %d %d",
				b.ProducerID, b.ProducerEpoch, b.BaseSequence, c.p.id, c.p.epoch, c.wantSeq)
		}
		if n := len(readBatch(t, set)); n != len(recs) {
			t.Errorf("%d records, want %d", n, len(recs))
		}
		body := set[4:]
		if crc := binary.BigEndian.Uint32(body[batchCRCAt:]); crc != crc32.Checksum(body[batchAttrsAt:], castagnoli) {
			t.Error("CRC does not cover the producer fields")
		}
	}
}

func TestNextSequence(t *testing.T) {
	for _, c := range []struct {
		seq  int32
		n    int
		want int32
	}{{0, 5, 5}, {math.MaxInt32 - 5, 5, math.MaxInt32}, {math.MaxInt32 - 5, 6, 0}, {math.MaxInt32, 3, 2}} {
		if got := nextSequence(c.seq, c.n); got != c.want {
			t.Errorf("nextSequence(%d, %d) = %d, want %d", c.seq, c.n, got, c.want)
		}
	}
}

// TestRecordBatchMatchesKafkaGo: the batch is byte for byte what kafka-go
// writes for the same records, and reads back with the same contents.
func TestRecordBatchMatchesKafkaGo(t *testing.T) {
	recs := sampleRecords()
	extra := []kafka.Header{{Key: "dlq_error", Value: []byte("too large")}}
	const now = 1_790_000_000_123
	for _, ex := range [][]kafka.Header{nil, extra} {
		got := rawRecordSet(recs, ex, now)
		if want := kafkaGoBatch(t, recs, ex, now); !bytes.Equal(got, want) {
			t.Fatalf("batch differs from kafka-go's:\n got %x\nwant %x", got, want)
		}
		if n := recordBatchSize(recs, ex); n < len(got)-4 {
			t.Fatalf("recordBatchSize %d < encoded %d", n, len(got))
		}
		read := readBatch(t, got)
		if len(read) != len(recs) {
			t.Fatalf("read %d records, want %d", len(read), len(recs))
		}
		for i, r := range read {
			checkRecord(t, i, r, recs[i], ex)
		}
	}
}

func checkRecord(t *testing.T, i int, got protocol.Record, want *event.Record, extra []kafka.Header) {
	t.Helper()
	key, _ := protocol.ReadAll(got.Key)
	val, _ := protocol.ReadAll(got.Value)
	if (got.Key == nil) != (want.Key == nil) || !bytes.Equal(key, want.Key) {
		t.Fatalf("record %d key %q, want %q", i, key, want.Key)
	}
	if (got.Value == nil) != (want.Value == nil) || !bytes.Equal(val, want.Value) {
		t.Fatalf("record %d value %q, want %q", i, val, want.Value)
	}
	if len(got.Headers) != len(want.Headers)+len(extra) {
		t.Fatalf("record %d has %d headers, want %d", i, len(got.Headers), len(want.Headers)+len(extra))
	}
	if got.Offset != int64(i) {
		t.Fatalf("record %d offset delta %d", i, got.Offset)
	}
}

// FuzzRecordBatch: for any records, the batch equals kafka-go's encoding.
func FuzzRecordBatch(f *testing.F) {
	f.Add([]byte("k"), []byte("v"), "h", []byte("hv"), uint8(3), false, int64(0))
	f.Add([]byte{}, []byte{}, "", []byte{}, uint8(1), true, int64(1<<40))
	f.Fuzz(func(t *testing.T, key, value []byte, hk string, hv []byte, n uint8, nilKey bool, now int64) {
		now = now&(1<<42-1) + 1 // kafka-go stamps a zero time with its clock and overflows after 2262
		recs := make([]*event.Record, int(n%8)+1)
		for i := range recs {
			r := &event.Record{Topic: "t", Key: key, Value: value,
				Headers: []event.Header{{Key: hk, Value: hv}}}
			if nilKey && i%2 == 0 {
				r.Key = nil
			}
			if i%3 == 2 {
				r.Value = nil
			}
			recs[i] = r
		}
		got := rawRecordSet(recs, nil, now)
		if want := kafkaGoBatch(t, recs, nil, now); !bytes.Equal(got, want) {
			t.Fatalf("batch differs from kafka-go's:\n got %x\nwant %x", got, want)
		}
		if reused := appendRecordSet(bytes.Repeat([]byte{0xff}, 64), recs, nil, now, noProducer, -1); !bytes.Equal(reused, got) {
			t.Fatalf("batch in a used buffer differs:\n got %x\nwant %x", reused, got)
		}
		if len(readBatch(t, got)) != len(recs) {
			t.Fatal("record count")
		}
	})
}
