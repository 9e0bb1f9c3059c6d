package sink

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// BenchmarkSend measures Send through acknowledgement against the in-process
// kfake broker: b.N records of 200 bytes over 100 keys on a 3-partition
// topic. Allocations include kfake's, which runs in the same process.
func BenchmarkSend(b *testing.B) {
	c := newFake(b)
	s := startSink(b, fastConfig(c.ListenAddrs()))
	ctx := context.Background()
	warm := newAcks(1)
	if err := s.Send(ctx, testRecord("bench", 1, 0, warm)); err != nil {
		b.Fatal(err)
	}
	warm.wait(b, 10*time.Second)

	var left atomic.Int64
	left.Store(int64(b.N))
	done := make(chan struct{})
	ack := func() {
		if left.Add(-1) == 0 {
			close(done)
		}
	}
	value := bytes.Repeat([]byte("v"), 200)
	recs := make([]event.Record, b.N)
	for i := range recs {
		recs[i] = event.Record{Topic: "bench", Key: []byte("key-" + strconv.Itoa(i%100)), Value: value,
			Headers: []event.Header{{Key: "ce_id", Value: []byte(strconv.Itoa(i))}}, Ack: ack}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range recs {
		if err := s.Send(ctx, &recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d records not acked", left.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
