package checkpoint

import (
	"context"

	"github.com/walrelay/walrelay/event"
)

// IdleSlack is WAL past a save's own that the idle advance ignores too,
// with a store that writes WAL on the source server (SelfWriting). Each
// save is an "important" WAL record there, after which PostgreSQL writes a
// few small ones of its own on an otherwise idle server (a running-xacts
// record within 15 s, a checkpoint within checkpoint_timeout): following
// them would save again, and the save would bring the next ones. They are
// well under 1 KB; WAL beyond the slack (another database's writes, a
// vacuum) advances the watermark as before. The cost: on an idle database
// the slot's confirmed position may trail the server's WAL by one save
// plus at most this much. A keepalive that asks for a reply is followed
// whatever its position (the pipeline's publisher): a shutting-down
// PostgreSQL asks until walrelay confirms all it sent.
const IdleSlack event.LSN = 2048

// store saves pos through the Store. With a SelfWriting store it keeps the
// Tracker's idle advance off the WAL the save writes (HoldIdle while it
// runs, then ReleaseIdle with the save's WAL end plus IdleSlack): an idle
// database then writes no WAL for walrelay's checkpoint, instead of a save
// per interval. Called with mu held.
func (c *Committer) store(ctx context.Context, pos Position) error {
	sw, ok := c.s.(SelfWriting)
	if !ok {
		return c.s.Save(ctx, pos)
	}
	c.t.HoldIdle()
	err := c.s.Save(ctx, pos)
	var floor event.LSN
	if end := sw.WALAfterSave(); err == nil && end != 0 {
		floor = end + IdleSlack
	}
	c.t.ReleaseIdle(floor)
	return err
}
