package event

import (
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
)

// LSN is a PostgreSQL WAL position.
type LSN = pglogrepl.LSN

// Op is the Debezium operation code of a change.
type Op byte

// Debezium operation codes.
const (
	OpCreate   Op = 'c' // INSERT
	OpUpdate   Op = 'u' // UPDATE
	OpDelete   Op = 'd' // DELETE
	OpTruncate Op = 't' // TRUNCATE, one change per truncated relation
	OpMessage  Op = 'm' // pg_logical_emit_message
	OpRead     Op = 'r' // snapshot read
)

// String returns the one-letter Debezium code ("c", "u", ...).
func (o Op) String() string { return string(rune(o)) }

// Tx is the transaction a change belongs to, as announced by pgoutput's Begin
// message. CommitLSN is Begin's FinalLSN: the LSN of the commit record, known
// before the first change of the transaction arrives.
type Tx struct {
	Xid        uint32
	CommitLSN  LSN
	CommitTime time.Time
}

// ID returns the transaction ID in Debezium's form "<xid>:<commit LSN>".
func (t *Tx) ID() string { return fmt.Sprintf("%d:%d", t.Xid, uint64(t.CommitLSN)) }

// LogicalMessage is the payload of pg_logical_emit_message.
type LogicalMessage struct {
	Transactional bool
	Prefix        string
	Content       []byte
}

// Change is one decoded row change (or truncate, or logical message).
//
// Before and After hold one value per column of Relation.Columns, in the same
// order, with the Go types documented in value.go. Before is nil when Postgres
// sent no old tuple (inserts; updates under REPLICA IDENTITY DEFAULT that did
// not change the key); After is nil for deletes and truncates. In Before under
// REPLICA IDENTITY DEFAULT/INDEX, a column that is not part of the identity is
// Absent, not nil.
type Change struct {
	Op      Op
	Tx      *Tx
	Ordinal uint32 // 1-based position of this change within its transaction, as decoded (the event ID's)
	// CollectionOrder is the decoder's 1-based position among this
	// transaction's changes to the same relation, before the rules drop any.
	CollectionOrder uint32
	LSN             LSN // WAL position of the change's own record
	Relation        *Relation
	Before          []any
	After           []any
	Message         *LogicalMessage // only for OpMessage
	// Snapshot is "true", "last", "incremental" (a chunk of an incremental
	// snapshot) or "" (streaming), as in Debezium's source.snapshot.
	Snapshot string
	// TotalOrder and DataCollectionOrder are the event's transaction block
	// (Debezium's total_order and data_collection_order): its 1-based
	// position among the events its transaction publishes, and among those
	// of its data collection (table, or message prefix). The pipeline sets
	// them after the rules, so they run from 1 to the END record's
	// event_count and the collection's: a change the rules or a catch-up
	// drop takes no position, a key change takes two (delete, create), a
	// tombstone none. Encoders write them as they are; they are not part of
	// the event ID.
	TotalOrder, DataCollectionOrder uint32
	// IDSuffix tells apart the parts of a change published as two events: an
	// update that changes the key becomes a delete of the old key (no suffix)
	// and a create of the new one ("-C"), as Debezium does.
	IDSuffix string
	// KeyPeer is set on the halves of a key-changing update: the row whose
	// key Debezium names in a header, the new row on the delete half (header
	// __debezium.newkey) and the old row on the create half
	// (__debezium.oldkey). nil on every other change.
	KeyPeer []any
	// Topic is set by the filter when a rule routes the change to a topic of
	// its own; "" means the default <prefix>.<schema>.<table>. Encoders name
	// Avro subjects after it.
	Topic string
}

// ID returns the event ID of invariant 4: the transaction's commit LSN and the
// change's ordinal, fixed-width upper-case hex, e.g. 00000000016B3748-00000005
// (and IDSuffix, for the create half of a key-changing update).
// It is identical on every replay of the same change and sorts in commit order.
func (c *Change) ID() string { return FormatID(c.Tx.CommitLSN, c.Ordinal) + c.IDSuffix }

// FormatID formats an event ID from a commit LSN and an ordinal.
func FormatID(commit LSN, ordinal uint32) string {
	return fmt.Sprintf("%016X-%08X", uint64(commit), ordinal)
}
