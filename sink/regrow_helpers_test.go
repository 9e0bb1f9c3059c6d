package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/walrelay/walrelay/internal/testenv"
)

// growTopic sets topic's partition count to n (CreatePartitions).
func growTopic(t testing.TB, brokers []string, topic string, n int) {
	t.Helper()
	if err := setPartitions(brokers, topic, n); err != nil {
		t.Fatal(err)
	}
}

// setPartitions is growTopic for any goroutine.
func setPartitions(brokers []string, topic string, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := kadm.NewClient(cl).UpdatePartitions(ctx, n, topic)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("grow topic %s to %d partitions: %w", topic, n, err)
	}
	return nil
}

// startLoggedSink is startSink with the sink's info-and-up log lines also
// kept in the returned buffer.
func startLoggedSink(t testing.TB, cfg Config) (*Sink, *testenv.SyncBuffer) {
	t.Helper()
	buf := &testenv.SyncBuffer{}
	log := zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), buf)).Level(zerolog.InfoLevel)
	return startSinkWith(t, cfg, log), buf
}

// logLines returns the JSON log lines in buf at level whose message
// contains msg.
func logLines(t testing.TB, buf *testenv.SyncBuffer, level, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if m["level"] == level && strings.Contains(m["message"].(string), msg) {
			out = append(out, m)
		}
	}
	return out
}

// Messages the tests look for.
const (
	switchMsg  = "once every record sent to it before was acknowledged"
	shrinkMsg  = "fewer partitions"
	failedMsg  = "cannot re-read the partition count of some topics"
	requestMsg = "cannot re-read the partition counts of the topics"
)

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAcked waits until n records of a were acked.
func waitAcked(t testing.TB, a *acks, n int, d time.Duration) {
	t.Helper()
	waitFor(t, d, strconv.Itoa(n)+" acks", func() bool { _, order := a.snapshot(); return len(order) >= n })
}

// partsOf is the partition count Send routes topic with. Call it only
// where Send is called, never during a Send.
func partsOf(s *Sink, topic string) int { return len(s.topics[topic].parts) }

const heldTopic = "held"

// held is a sink whose topic heldTopic grew from 2 to 4 partitions while
// the produce requests of records 10..29 were parked in the broker: the
// refresher has seen the growth, Send has not switched, and records 0..9
// are acked.
type held struct {
	c       *kfake.Cluster
	s       *Sink
	brokers []string
	a       *acks

	hold     atomic.Bool
	release  chan struct{}
	once     sync.Once
	earlyNew atomic.Int64 // produce requests for partitions 2 and 3 while parked
}

// startHeld builds a held sink; modify changes the config before New.
func startHeld(t *testing.T, modify func(*Config)) *held {
	t.Helper()
	h := &held{c: newFake(t), release: make(chan struct{})}
	h.brokers = h.c.ListenAddrs()
	h.c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		h.c.KeepControl()
		if !h.hold.Load() {
			return nil, nil, false
		}
		for _, rt := range req.(*kmsg.ProduceRequest).Topics {
			for _, p := range rt.Partitions {
				if p.Partition >= 2 {
					h.earlyNew.Add(1)
				}
			}
		}
		h.c.SleepControl(func() { <-h.release })
		return nil, nil, false
	})
	createTopic(t, h.brokers, heldTopic, 2, nil)
	cfg := fastConfig(h.brokers)
	cfg.MetadataMaxAge = 50 * time.Millisecond
	if modify != nil {
		modify(&cfg)
	}
	h.s = startSink(t, cfg)
	t.Cleanup(h.unhold) // before the sink's Close, which waits for the parked records

	h.a = newAcks(math.MaxInt)
	for i := range 30 {
		if i == 10 {
			waitAcked(t, h.a, 10, 10*time.Second)
			h.hold.Store(true)
		}
		if err := h.s.Send(context.Background(), testRecord(heldTopic, i%10, i, h.a)); err != nil {
			t.Fatalf("Send(%d): %v", i, err)
		}
	}
	growTopic(t, h.brokers, heldTopic, 4)
	waitFor(t, 10*time.Second, "the refresher sees 4 partitions", func() bool {
		return h.s.topics[heldTopic].growth.latest.Load() == 4
	})
	if _, order := h.a.snapshot(); len(order) != 10 {
		t.Fatalf("%d records acked, want the 10 sent before the produce requests were parked", len(order))
	}
	return h
}

// unhold lets the parked produce requests through.
func (h *held) unhold() {
	h.once.Do(func() {
		h.hold.Store(false)
		close(h.release)
	})
}

// failHeld fails the parked produce requests, and every later one, with
// UNKNOWN_SERVER_ERROR, which is not retried: the sink halts.
func (h *held) failHeld() {
	h.c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: heldTopic, Err: kerr.UnknownServerError, Count: -1})
	h.unhold()
}

// movedKey returns a key number whose key goes to partition 2 or 3 of 4.
func movedKey() int {
	for k := 0; ; k++ {
		if javaPartition([]byte("key-"+strconv.Itoa(k)), 4) >= 2 {
			return k
		}
	}
}
