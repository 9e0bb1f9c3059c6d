package pipeline

import (
	"context"
	"time"
)

// sinkWaitStep bounds one wait of a sinkWait, so that a sink that halted
// meanwhile is noticed within it.
const sinkWaitStep = time.Second

// sinkWait runs waits (for room under the in-flight caps, for the last
// acks) that must end when the sink halts. Its bounded context is reused
// until it expires, so a call that does not have to wait costs no timer.
// Not safe for concurrent use: each goroutine that waits has its own.
type sinkWait struct {
	s       *session
	parent  context.Context
	wctx    context.Context
	wcancel context.CancelFunc
}

// run calls f with a context of at most sinkWaitStep until f succeeds (nil),
// ctx ends (ctx's error) or the sink halts (its error). Between two attempts
// it calls between, if set.
func (w *sinkWait) run(ctx context.Context, f func(context.Context) error, between func()) error {
	for {
		if w.wctx == nil || w.parent != ctx || w.wctx.Err() != nil {
			w.stop()
			w.wctx, w.wcancel = context.WithTimeout(ctx, sinkWaitStep)
			w.parent = ctx
		}
		if err := f(w.wctx); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case err := <-w.s.sink.Err():
			return err
		default:
		}
		if between != nil {
			between()
		}
	}
}

// stop releases the reused context.
func (w *sinkWait) stop() {
	if w.wcancel != nil {
		w.wcancel()
	}
	w.wctx, w.wcancel, w.parent = nil, nil, nil
}
