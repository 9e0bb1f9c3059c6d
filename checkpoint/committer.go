package checkpoint

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

// DefaultInterval is the save interval NewCommitter uses when given a
// non-positive one.
const DefaultInterval = time.Second

// Committer persists the Tracker's watermark to a Store and publishes the
// newest durable position (Persisted) for the replication reader, which may
// confirm only that value to Postgres (invariant 1).
type Committer struct {
	t        *Tracker
	s        Store
	slot     string
	interval time.Duration
	log      zerolog.Logger

	persisted atomic.Uint64

	mu        sync.Mutex // serialises saves from Run and Flush; guards the fields below
	saved     bool       // a position has been saved by this Committer
	lastSaved event.LSN
	lastPos   Position // what the last save stored (LastSaved)
	catchup   *Catchup // saved with every position until one reaches its boundary
	// pending are an incremental catch-up's later cursors, each to be saved
	// from the first position at or past its LSN on (CatchupAt).
	pending []catchupAt
	// added and addedSignal are what AddCatchup merged in: later cursors
	// (CatchupAt) come from a runner that does not know them, and get them
	// merged in too.
	added       []string
	addedSignal event.LSN
}

// catchupAt is a catch-up cursor that holds from a position on.
type catchupAt struct {
	lsn event.LSN
	cu  *Catchup
}

// CatchupAt makes cu (nil: the catch-up is done) the catch-up saved with
// every position at or past lsn, replacing the one saved before: an
// incremental catch-up's cursor after a chunk published in the transaction
// that ends at lsn, or a blocking catch-up to take again (Boundary 0) after
// a TRUNCATE published in it. A cu with Boundary 0 is never dropped by a
// position past the old boundary. Calls come in increasing lsn order, from
// the publisher goroutine, before the Tracker learns that transaction's
// end; safe while Run is running.
func (c *Committer) CatchupAt(lsn event.LSN, cu *Catchup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.added) > 0 {
		cu = withAdded(cu, c.added, c.addedSignal)
	}
	c.pending = append(c.pending, catchupAt{lsn, cu})
}

// withAdded is cu with tables merged in (Catchup.Merge) and answering the
// snapshot signal at signal too.
func withAdded(cu *Catchup, tables []string, signal event.LSN) *Catchup {
	m := cu.Merge(tables)
	m.Signal = max(m.Signal, signal)
	return m
}

// catchupFor returns the catch-up to save with a position at lsn and how
// many pending cursors it consumes. Called with mu held.
func (c *Committer) catchupFor(lsn event.LSN) (*Catchup, int) {
	cu, n := c.catchup, 0
	for n < len(c.pending) && c.pending[n].lsn <= lsn {
		cu = c.pending[n].cu
		n++
	}
	return cu, n
}

// SetCatchup makes every later save carry c (Position.Catchup), until a
// saved position reaches c.Boundary: from there a restart resumes past every
// change c covers, and c is dropped. Call it before Run.
func (c *Committer) SetCatchup(cu *Catchup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchup = cu
}

// NewCommitter returns a Committer that saves t's watermark for slot into s
// every interval (DefaultInterval if interval <= 0). It must be the only
// receiver of t.Changed().
func NewCommitter(t *Tracker, s Store, slot string, interval time.Duration, log zerolog.Logger) *Committer {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Committer{t: t, s: s, slot: slot, interval: interval, log: log}
}

// Run saves the watermark at start, then every interval and when the Tracker
// signals Changed (at most once per interval), whenever it moved past the last
// saved LSN. It runs in its own goroutine, owned by the pipeline, until ctx
// ends (then it returns nil; call Flush for the final checkpoint). A Save
// error is returned at once and never skipped: the pipeline halts and restarts
// from the last durable checkpoint.
func (c *Committer) Run(ctx context.Context) error {
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	var last time.Time // when Run last called Save
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			case <-c.t.Changed():
				if time.Since(last) < c.interval {
					continue // the ticker saves it within one interval
				}
			}
		}
		saved, err := c.saveIfMoved(ctx)
		if err != nil {
			return c.runErr(ctx, err)
		}
		if saved {
			last = time.Now()
			tick.Reset(c.interval) // at most one save per interval
		}
	}
}

// runErr hides a Save error caused by Run's own ctx ending: that is a
// shutdown, not a failure.
func (c *Committer) runErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Flush saves the current watermark now if it moved past the last saved LSN:
// the final checkpoint on shutdown, after Tracker.Drain. Safe to call while
// Run is running; saves never overlap.
func (c *Committer) Flush(ctx context.Context) error {
	_, err := c.saveIfMoved(ctx)
	return err
}

// Persisted returns the newest LSN a Save has made durable, or 0 before the
// first save. It is the only value the replication reader may confirm to
// Postgres as Flush (and Apply). Safe from any goroutine.
func (c *Committer) Persisted() event.LSN { return event.LSN(c.persisted.Load()) }

// saveIfMoved saves the watermark when it is past the last saved LSN (or, for
// the first save, non-zero) and then publishes it as Persisted. It reports
// whether it called Save.
func (c *Committer) saveIfMoved(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lsn := c.t.Watermark()
	if lsn == 0 || (c.saved && lsn <= c.lastSaved) {
		return false, nil
	}
	return true, c.save(ctx, lsn)
}

// save stores lsn with its catch-up (catchupFor; dropped if lsn reached
// its boundary) and publishes lsn as Persisted. Called with mu held.
func (c *Committer) save(ctx context.Context, lsn event.LSN) error {
	start := time.Now()
	cu, used := c.catchupFor(lsn)
	if cu != nil && cu.Boundary != 0 && lsn >= cu.Boundary {
		cu = nil
	}
	pos := Position{LSN: lsn, Slot: c.slot, UpdatedAt: start.UTC(), Catchup: cu}
	if err := c.store(ctx, pos); err != nil {
		return &SaveError{LSN: lsn, Err: err}
	}
	c.saved, c.lastSaved, c.catchup, c.lastPos = true, lsn, cu, pos
	c.pending = c.pending[used:]
	if uint64(lsn) > c.persisted.Load() {
		c.persisted.Store(uint64(lsn))
	}
	c.logSave(lsn, time.Since(start))
	return nil
}

// SaveError is a save of the Committer that failed: the store's error
// (Err) for the position at LSN. Persisted stays where it was. Its message
// is the store's, which names the LSN.
type SaveError struct {
	LSN event.LSN
	Err error
}

func (e *SaveError) Error() string { return e.Err.Error() }
func (e *SaveError) Unwrap() error { return e.Err }

// LastSaved returns the position this Committer last saved, with its
// catch-up; false when it saved none. Safe from any goroutine.
func (c *Committer) LastSaved() (Position, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastPos, c.saved
}

// Catchup returns the catch-up the next save carries, nil if none.
func (c *Committer) Catchup() *Catchup {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.catchup
}

// AddCatchup adds tables to the catch-up this Committer saves, to be
// snapshotted again with it (Catchup.Merge), and saves it at once, so that
// it is durable before the tables join the publication. Safe to call while
// Run is running (the publication poller does); saves never overlap.
// signal, if not 0, is the commit LSN of the snapshot signal asking for
// them (Catchup.Signal).
func (c *Committer) AddCatchup(ctx context.Context, tables []string, signal event.LSN) (*Catchup, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lsn := c.t.Watermark()
	if c.saved && lsn < c.lastSaved {
		lsn = c.lastSaved
	}
	old, oldPending := c.catchup, slices.Clone(c.pending)
	c.catchup = withAdded(c.catchup, tables, signal)
	for i := range c.pending {
		c.pending[i].cu = withAdded(c.pending[i].cu, tables, signal)
	}
	if err := c.save(ctx, lsn); err != nil {
		c.catchup, c.pending = old, oldPending
		return nil, err
	}
	c.added, c.addedSignal = append(c.added, tables...), max(c.addedSignal, signal)
	return c.catchup, nil
}

// logSave writes the "checkpoint" line of a save, at debug level: saves come
// every interval while the server's WAL moves (86,400 a day at the default
// 1 s), and the reader's info-level "progress" line reports the checkpoint,
// the lag and what is in flight every 10 s. Its fields say their units and
// differ in name from the progress line's where they differ in meaning:
// received_lag_bytes is the WAL received but not yet checkpointed, while
// the progress line's lag_bytes is the server's WAL position minus the
// checkpoint (audit m11). Called with mu held.
func (c *Committer) logSave(lsn event.LSN, took time.Duration) {
	ev := c.log.Debug()
	if !ev.Enabled() {
		return
	}
	events, bytes, open := c.t.Stats()
	var lag uint64
	if recv := c.t.Received(); recv > lsn {
		lag = uint64(recv - lsn)
	}
	ev.Str("slot", c.slot).
		Stringer("lsn", lsn).
		Uint64("received_lag_bytes", lag).
		Int("inflight_events", events).
		Int64("inflight_bytes", bytes).
		Int("open_txns", open).
		Float64("took_seconds", took.Seconds()).
		Msg("checkpoint")
}
