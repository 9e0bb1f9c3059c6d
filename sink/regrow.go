package sink

import (
	"context"
	"fmt"
	"sync/atomic"
)

// growth is how a topic Send routes to takes on partitions added while the
// sink runs. The refresher (refresh.go) raises latest when it reads a larger
// count; the next Send to the topic sees latest differ from the count in use
// (one atomic load per record), waits until every record sent to the topic
// so far is resolved, and only then routes with the new count (regrow). So
// all earlier records of a key are in the log before a later record of the
// key can go to a different partition.
type growth struct {
	// latest is the newest partition count read, never below the count in
	// use. Set by route before the refresher can see the topic, then written
	// only by the refresher.
	latest atomic.Int32
	// sent counts the records queued to the topic. Send goroutine only.
	sent uint64
	// resolved counts the records of the topic acked, dead-lettered ones
	// included. Added to by the writers, after the records' Ack callbacks.
	resolved atomic.Uint64
	// want is the resolved count regrow waits for, 0 while it does not wait.
	want atomic.Uint64
	// drained (capacity 1) is signalled by the writer whose ack brings
	// resolved to want.
	drained chan struct{}
}

// init prepares g for a topic of n partitions, before the refresher or a
// writer can see it.
func (g *growth) init(n int) {
	g.drained = make(chan struct{}, 1)
	g.latest.Store(int32(n))
}

// resolve counts n more records of the topic as resolved and wakes regrow if
// it waits for them. Called by a writer after the records' Ack callbacks, so
// that Send, once released, knows every earlier Ack has run.
func (g *growth) resolve(n uint64) {
	r := g.resolved.Add(n)
	if w := g.want.Load(); w != 0 && r >= w {
		select {
		case g.drained <- struct{}{}:
		default:
		}
	}
}

// regrow switches t to the partition count in t.latest. Called by route on
// the Send goroutine when the refresher read a larger count. It first waits
// until every record sent to t so far was acknowledged by the broker or
// dead-lettered (the publisher blocks meanwhile: back-pressure), then
// extends t's partitions, whose writers start lazily as before, retires the
// shared client (its cached metadata does not know the new partitions) and
// logs one warning. The wait ends with the HaltError when the sink halts,
// with ErrClosed when Close starts, and with ctx's error; t is unchanged then
// and the next Send to t tries again.
func (s *Sink) regrow(ctx context.Context, t *topicState) error {
	n, old := int(t.growth.latest.Load()), len(t.parts)
	if n <= old {
		return nil // the refresher only raises latest; kept for safety
	}
	if err := s.awaitResolved(ctx, t, n); err != nil {
		return err
	}
	for p := old; p < n; p++ {
		t.parts = append(t.parts, p)
		t.writers = append(t.writers, nil)
	}
	s.counts.set(t.name, n)
	s.cluster.refresh()
	s.log.Warn().Str("topic", t.name).Int("old_partitions", old).Int("new_partitions", n).
		Msgf("kafka: topic grew from %d to %d partitions; switched to %d once every record sent to it before was acknowledged: "+
			"keys are now spread over %d partitions, so a key's later records may go to a different partition than its "+
			"earlier ones, which are all in the log already", old, n, n, n)
	return nil
}

// awaitResolved waits until every record sent to t is resolved (see regrow;
// n is the new count, for the error).
func (s *Sink) awaitResolved(ctx context.Context, t *topicState, n int) error {
	g := &t.growth
	if g.resolved.Load() >= g.sent {
		return nil
	}
	g.want.Store(g.sent)
	defer g.want.Store(0)
	for g.resolved.Load() < g.sent {
		select {
		case <-g.drained:
		case <-s.halted:
			return s.haltErr
		case <-s.closing.Done():
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("kafka: topic %q grew from %d to %d partitions: waiting for the %d record(s) sent before to be acknowledged: %w",
				t.name, len(t.parts), n, g.sent-g.resolved.Load(), ctx.Err())
		}
	}
	return nil
}
