package pipeline

import (
	"time"

	"github.com/walrelay/walrelay/event"
)

// retainer decides what to confirm to Postgres. Without a window it confirms
// the persisted checkpoint. With checkpoint.retain = W it confirms the
// checkpoint as it was W ago, so the slot keeps the WAL of the last W and
// --replay-from can re-publish from anywhere inside that window. It never
// confirms below floor, the slot's position when the session started.
// Used only by the reader goroutine.
type retainer struct {
	window  time.Duration
	floor   event.LSN
	samples []lsnSample // persisted positions, oldest first, one per change
}

type lsnSample struct {
	at  time.Time
	lsn event.LSN
}

// confirm records persisted as of now and returns the LSN to confirm.
func (r *retainer) confirm(now time.Time, persisted event.LSN) event.LSN {
	if r.window <= 0 {
		return max(persisted, r.floor)
	}
	if n := len(r.samples); n == 0 || r.samples[n-1].lsn != persisted {
		r.samples = append(r.samples, lsnSample{at: now, lsn: persisted})
	}
	cut := now.Add(-r.window)
	newest := -1
	for i, s := range r.samples {
		if s.at.After(cut) {
			break
		}
		newest = i
	}
	if newest < 0 {
		return r.floor
	}
	lsn := r.samples[newest].lsn
	r.samples = r.samples[newest:] // keep the newest sample that is old enough
	r.floor = max(r.floor, lsn)
	return r.floor
}
