package pipeline

import (
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/logfield"
)

// downProgress writes the info-level "progress" line every reportEvery while
// no session streams: from a halt until a restarted session streams again,
// or Run returns. The reader writes the line only while it streams, so
// without this an outage (Kafka down, a rule error) showed only the
// "pipeline halted" errors, at backoff intervals, and nothing repeated the
// state (audit m11). The line has the streaming line's names for the same
// figures (state, slot, events, checkpoint, server_wal_end, lag_bytes) and
// says why and since when the pipeline is down. The lag is measured anew
// for each line, as walrelay_lag_bytes is between sessions (idleLag, which
// the metrics own: without metrics.listen the line has no lag).
type downProgress struct {
	mu    sync.Mutex
	st    Status         // the newest report of the pipeline that is down
	log   zerolog.Logger // the halted session's
	since time.Time      // when the pipeline went down (the first halt since it last streamed)
	stop  chan struct{}  // ends the writer; nil while none runs
	every time.Duration  // reportEvery; tests shorten it
	// lag measures the checkpoint and the server's WAL position between
	// sessions; ok false when it cannot (no metrics, no session streamed
	// yet). Nil: not measured.
	lag func() (checkpoint, end event.LSN, ok bool)
}

// idleLagOf is downProgress.lag from the metrics' between-sessions
// measurement, nil without metrics.
func idleLagOf(m *metrics) func() (checkpoint, end event.LSN, ok bool) {
	if m == nil {
		return nil
	}
	return func() (event.LSN, event.LSN, bool) {
		ckpt, end := m.idle.read()
		return ckpt, end, end != 0
	}
}

// down records st, the report of a halt or of a restarted session that is
// setting up, and lag (nil: none), and starts the writer unless it runs.
// Called by Run's goroutine, between sessions.
func (p *downProgress) down(log zerolog.Logger, st Status, lag func() (checkpoint, end event.LSN, ok bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st, p.log, p.lag = st, log, lag
	if p.stop != nil {
		return
	}
	p.since, p.stop = time.Now(), make(chan struct{})
	every := p.every
	if every <= 0 {
		every = reportEvery
	}
	go p.write(p.stop, every)
}

// up ends the writer: a session streams (its reader reports from now on),
// or Run returns. No line is written after up returns.
func (p *downProgress) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

// write writes the line every every until stop is closed.
func (p *downProgress) write(stop chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.line(stop)
		}
	}
}

// line writes one "progress" line of the pipeline that is down, unless up
// ended the writer whose stop this is. The lag is measured without the
// lock held (it may wait for PostgreSQL, up to idleTimeout).
func (p *downProgress) line(stop chan struct{}) {
	p.mu.Lock()
	st, since, lag := p.st, p.since, p.lag
	p.mu.Unlock()
	var ckpt, end event.LSN
	measured := false
	if lag != nil {
		ckpt, end, measured = lag()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != stop {
		return
	}
	now := time.Now()
	ev := p.log.Info().Str("state", st.State).Str("slot", st.Slot).Uint64("events", st.Events)
	if measured {
		ev = ev.Stringer("checkpoint", ckpt).Stringer("server_wal_end", end).Int64("lag_bytes", lagBetween(end, ckpt))
	} else {
		ev = ev.Str("checkpoint", st.Checkpoint)
	}
	ev = ev.Float64("down_seconds", logfield.Seconds(now.Sub(since))).
		Int("halts", st.Halts).Str("last_error", st.LastError)
	if st.State == StateRestarting && st.RestartAt.After(now) {
		ev = ev.Float64("retry_in_seconds", logfield.Seconds(st.RestartAt.Sub(now)))
	}
	ev.Msg("progress")
}
