package sink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCompressionCodecs(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			cfg := fastConfig(brokers)
			cfg.Compression = codec
			s := startSink(t, cfg)
			topic := "codec-" + codec
			a := newAcks(300)
			for i := range 300 {
				if err := s.Send(context.Background(), testRecord(topic, i%3, i, a)); err != nil {
					t.Fatal(err)
				}
			}
			a.wait(t, 10*time.Second)
			var got []int
			for _, r := range consume(t, brokers, topic, 300, 10*time.Second) {
				got = append(got, recordNumber(t, r))
			}
			if len(got) != 300 {
				t.Fatalf("consumed %d records, want 300", len(got))
			}
			checkOrderPerKey(t, "consumed", got, func(i int) int { return i % 3 })
		})
	}
}

// TestBackpressureAndCloseTimeout stalls every produce request in the broker:
// the partition's queue (two batches) fills, the next Send waits for room
// until its context ends, and Close gives up when its context ends, leaving
// the records unacked.
func TestBackpressureAndCloseTimeout(t *testing.T) {
	c := newFake(t)
	release := stallProduce(c)
	defer release()
	cfg := fastConfig(c.ListenAddrs())
	cfg.BatchMaxRecords = 1
	cfg.RequestTimeout = time.Minute
	createTopic(t, c.ListenAddrs(), "stall", 1, nil)
	s, err := New(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	a := newAcks(4)
	// One record in flight, two queued: the queue is full.
	for i := range 3 {
		if err := s.Send(context.Background(), testRecord("stall", 1, i, a)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
		time.Sleep(20 * time.Millisecond) // let the writer take the first one
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, testRecord("stall", 1, 3, a))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `topic "stall" partition 0`) {
		t.Errorf("Send into a full queue = %v, want a deadline error naming the partition", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("Send returned after %s without waiting for room", d)
	}
	if st := s.Stats(); st.Pending != 3 {
		t.Errorf("stats %+v, want 3 pending", st)
	}

	closeCtx, cancelClose := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelClose()
	err = s.Close(closeCtx)
	if err == nil || !strings.Contains(err.Error(), "3 record(s) not acknowledged") {
		t.Errorf("Close with a stalled broker = %v, want 3 records not acknowledged", err)
	}
	if counts, _ := a.snapshot(); len(counts) != 0 {
		t.Errorf("acked %v although the broker never answered", counts)
	}
}
