package schema

import (
	"strconv"
	"time"

	"github.com/walrelay/walrelay/event"
)

// Connector is source.connector, as the Debezium PostgreSQL connector prints it.
const Connector = "postgresql"

// source is the Debezium PostgreSQL source block of a change
// (io.debezium.connector.postgresql.Source): in field order version,
// connector, name, ts_ms, snapshot, db, sequence, ts_us, ts_ns, schema, table,
// txId, lsn, xmin, origin, origin_lsn. origin and origin_lsn (Debezium 3's
// replication origin) are always null; xmin is always null (Debezium fills it only with
// xmin.fetch.interval.ms set). Encoders of every format build it with
// sourceOf and print its fields in this order.
type source struct {
	version   string
	name      string
	tsMs      int64 // commit time
	tsUs      int64
	tsNs      int64
	snapshot  string // "true", "last", "incremental" or "false"
	db        string
	schema    string // "" for logical messages
	table     string // "" for logical messages
	txID      int64
	hasTxID   bool   // false for non-transactional logical messages: txId null
	commitLSN uint64 // first element of sequence
	read      bool   // a snapshot read: sequence's first element is null
	lsn       uint64 // the change's own LSN: source.lsn, second element of sequence
}

// eventTime is the time an event is stamped with (source.ts_*, ce_time): the
// commit time, or now when the change has none (a non-transactional logical
// message, whose synthetic transaction has no commit record).
func eventTime(ch *event.Change, now time.Time) time.Time {
	if ch.Tx.CommitTime.IsZero() {
		return now
	}
	return ch.Tx.CommitTime
}

// sourceOf builds the source block of ch, stamped with ct (see eventTime).
// ch must have passed checkChange.
func sourceOf(o *Options, ch *event.Change, ct time.Time) source {
	s := source{
		version:   o.Version,
		name:      o.TopicPrefix,
		tsMs:      ct.UnixMilli(),
		tsUs:      ct.UnixMicro(),
		tsNs:      ct.UnixNano(),
		snapshot:  ch.Snapshot,
		db:        o.Database,
		txID:      int64(ch.Tx.Xid),
		hasTxID:   true,
		commitLSN: uint64(ch.Tx.CommitLSN),
		lsn:       uint64(ch.LSN),
		read:      ch.Op == event.OpRead,
	}
	if s.snapshot == "" {
		s.snapshot = "false"
	}
	if ch.Relation != nil {
		s.schema, s.table = ch.Relation.Schema, ch.Relation.Table
	}
	if ch.Op == event.OpMessage && !ch.Message.Transactional {
		s.hasTxID = false
	}
	return s
}

// appendSequence appends source.sequence unquoted, as Debezium's JSON array
// of two decimal strings: ["<commit LSN>","<change LSN>"]. Debezium's first
// element is the previous transaction's commit LSN; walrelay uses this
// transaction's, which is known for every change and orders the same way.
// A snapshot read has none, null as in Debezium: [null,"<snapshot LSN>"].
func (s *source) appendSequence(dst []byte) []byte {
	if s.read {
		dst = append(dst, `[null,"`...)
	} else {
		dst = append(dst, `["`...)
		dst = strconv.AppendUint(dst, s.commitLSN, 10)
		dst = append(dst, `","`...)
	}
	dst = strconv.AppendUint(dst, s.lsn, 10)
	return append(dst, `"]`...)
}

// appendTxID appends transaction.id, "<xid>:<commit LSN decimal>", the same
// string as event.Tx.ID without its allocations.
func appendTxID(dst []byte, tx *event.Tx) []byte {
	dst = strconv.AppendUint(dst, uint64(tx.Xid), 10)
	dst = append(dst, ':')
	return strconv.AppendUint(dst, uint64(tx.CommitLSN), 10)
}
