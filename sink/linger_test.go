package sink

import (
	"context"
	"testing"
	"time"
)

// TestFullBatchDoesNotWaitForLinger: with a linger far longer than the test,
// records sent one by one while the writer lingers are written as soon as
// they fill a batch, by count and by bytes; only a partial batch would wait.
func TestFullBatchDoesNotWaitForLinger(t *testing.T) {
	for _, tc := range []struct {
		name     string
		records  int
		maxBytes int
	}{
		{"by count", 10, 1 << 20},
		{"by bytes", 1000, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFake(t)
			cfg := fastConfig(c.ListenAddrs())
			cfg.Linger = time.Hour
			cfg.BatchMaxRecords = tc.records
			cfg.BatchMaxBytes = tc.maxBytes
			cfg.TopicPartitions = 1
			s := startSink(t, cfg)
			// A writer that missed a full batch lingers on, its queue fills
			// and Send blocks: bounded, so the test fails instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// A whole number of batches by count; by bytes, enough records
			// (about 100 bytes each) for several full batches. Only the last,
			// partial one may wait, so wait for all but the last 100.
			n := 3 * tc.records
			if tc.name == "by bytes" {
				n = 300
			}
			want := n
			if tc.name == "by bytes" {
				want = n - 100
			}
			a := newAcks(want)
			for i := range n {
				if err := s.Send(ctx, testRecord("full-"+tc.name[3:], 1, i, a)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // the writer lingers between records

			}
			a.wait(t, 10*time.Second)
		})
	}
}

// TestSendNowEndsLinger: with a linger far longer than the test, records
// sent before SendNow go out at once, over every partition they went to; a
// record sent after it waits for the linger again until the next SendNow.
func TestSendNowEndsLinger(t *testing.T) {
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	cfg.Linger = time.Hour
	cfg.TopicPartitions = 3
	s := startSink(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := newAcks(30)
	for i := range 30 {
		if err := s.Send(ctx, testRecord("now", i%6, i, first)); err != nil {
			t.Fatal(err)
		}
	}
	s.SendNow()
	first.wait(t, 5*time.Second)

	later := newAcks(1)
	if err := s.Send(ctx, testRecord("now", 0, 100, later)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, acked := later.snapshot(); len(acked) != 0 {
		t.Fatal("a record sent after SendNow did not wait for the linger")
	}
	s.SendNow()
	later.wait(t, 5*time.Second)
}
