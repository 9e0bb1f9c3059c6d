package sink

import (
	"context"
	"fmt"
)

// Close stops accepting records (later Sends return ErrClosed, Sends waiting
// for room return it too), then waits until every queued record was acked or
// ctx ends. If ctx ends first it aborts the requests in flight and returns an
// error naming the number of records left unacknowledged; they were not
// acked, so the checkpoint does not move past them. If the sink halted, Close
// returns the HaltError. Close may be called from any goroutine but an Ack,
// and more than once.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopSending()
	s.sending.Wait()

	s.closeOnce.Do(func() {
		for _, w := range s.all {
			w.queue.close()
			w.signal() // a writer lingering over a batch sends it now
		}
	})

	drained := make(chan struct{})
	go func() {
		s.writers.Wait()
		close(drained)
	}()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		s.cancel()
		<-drained
		err = fmt.Errorf("kafka: close: %d record(s) not acknowledged: %w", s.stats.pending.Load(), ctx.Err())
	}
	s.cancel()
	<-s.refreshDone
	s.cluster.close()
	if herr := s.haltedErr(); herr != nil {
		return herr
	}
	return err
}
