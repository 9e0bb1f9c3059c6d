package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// WatermarkPrefix is the prefix of the logical decoding messages that
// bracket each chunk of an incremental catch-up (incremental.go). They are
// never published.
const WatermarkPrefix = "walrelay_watermark"

// watermark is the content of a watermark message: the session that wrote
// it (a session ignores the watermarks of others, e.g. of a session that
// died before its stream reached them), the chunk, its table, and whether
// it opens ("low") or closes ("high") the chunk's window.
type watermark struct {
	Session string `json:"session"`
	Chunk   uint64 `json:"chunk"`
	Table   string `json:"table"`
	Kind    string `json:"kind"`
}

const (
	watermarkLow  = "low"
	watermarkHigh = "high"
)

// newSessionID returns a random ID for a session's watermarks.
func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// emitWatermark writes w as a transactional logical message in a
// transaction of its own on db (in autocommit), so that it takes its place
// in the stream's commit order, and returns once it committed.
func emitWatermark(ctx context.Context, db *pgx.Conn, w watermark) error {
	body, err := json.Marshal(w)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, "SELECT pg_catalog.pg_logical_emit_message(true, $1, $2)", WatermarkPrefix, string(body))
	if err != nil {
		return fmt.Errorf("postgres: writing the %s watermark of chunk %d of %s: %w", w.Kind, w.Chunk, w.Table, err)
	}
	return nil
}

// parseWatermark returns the watermark ch carries, ok false if ch is not a
// watermark message.
func parseWatermark(ch *event.Change) (w watermark, ok bool, err error) {
	if ch.Op != event.OpMessage || ch.Message == nil || ch.Message.Prefix != WatermarkPrefix {
		return w, false, nil
	}
	if err := json.Unmarshal(ch.Message.Content, &w); err != nil {
		return w, true, fmt.Errorf("watermark at %s: %w", ch.LSN, err)
	}
	return w, true, nil
}

// xidSnapshot is the transaction snapshot a chunk was read in, as
// pg_current_snapshot() prints it: which transactions it sees.
type xidSnapshot struct {
	xmax uint32   // the first transaction it does not see (32-bit, as the stream's xids)
	xip  []uint32 // transactions in progress when it was taken, sorted
}

// parseXidSnapshot parses "xmin:xmax:xip,xip,...". The 64-bit xid8
// values are cut to the 32 bits the replication stream carries.
func parseXidSnapshot(s string) (xidSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return xidSnapshot{}, fmt.Errorf("snapshot %q is not xmin:xmax:xip", s)
	}
	if _, err := strconv.ParseUint(parts[0], 10, 64); err != nil {
		return xidSnapshot{}, fmt.Errorf("snapshot %q: xmin: %w", s, err)
	}
	xmax, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return xidSnapshot{}, fmt.Errorf("snapshot %q: xmax: %w", s, err)
	}
	snap := xidSnapshot{xmax: uint32(xmax)}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			v, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return xidSnapshot{}, fmt.Errorf("snapshot %q: xip: %w", s, err)
			}
			snap.xip = append(snap.xip, uint32(v))
		}
	}
	slices.Sort(snap.xip)
	return snap, nil
}

// sees reports whether a transaction that committed (the stream carries
// it) is visible in the snapshot: it precedes xmax (modulo 2^32, as
// PostgreSQL compares xids) and was not in progress.
func (s xidSnapshot) sees(xid uint32) bool {
	if int32(xid-s.xmax) >= 0 {
		return false
	}
	_, inProgress := slices.BinarySearch(s.xip, xid)
	return !inProgress
}
