package snapshot

import (
	"fmt"
	"math"

	"github.com/walrelay/walrelay/event"
)

// positionSpan is how many commit-LSN values a snapshot's event IDs use: the
// LSNs strictly between the last 8-byte-aligned LSN below the snapshot's LSN
// and the next aligned one. WAL records start 8-byte aligned, so none of them
// is ever the commit LSN of a streamed transaction.
const positionSpan = 7

// perPosition is how many ordinals one commit-LSN value numbers (1..2^32-1).
const perPosition = math.MaxUint32

// MaxRows is the most rows one snapshot can number: 7 × (2^32-1).
const MaxRows = positionSpan * perPosition

// EventPosition returns the commit LSN and ordinal of the event ID
// (event.FormatID) of the snapshot row with 0-based ordinal n, for a
// snapshot taken at lsn (the slot's consistent point, or the WAL position
// when the snapshot was exported):
//
//	commit  = (lsn-1) &^ 7 + 1 + n / (2^32-1)
//	ordinal = n mod (2^32-1) + 1
//
// The commit part is below every commit LSN the slot streams after lsn and
// is never 8-byte aligned, so it is never a real commit LSN: snapshot IDs sort
// before the stream's and never collide with them. It fails for n >= MaxRows.
func EventPosition(lsn event.LSN, n uint64) (commit event.LSN, ordinal uint32, err error) {
	if n >= MaxRows {
		return 0, 0, fmt.Errorf("snapshot: row ordinal %d exceeds the %d that snapshot event IDs can number", n, uint64(MaxRows))
	}
	base := (lsn - 1) &^ 7
	return base + 1 + event.LSN(n/perPosition), uint32(n%perPosition) + 1, nil
}
