package schema

import (
	"time"

	"github.com/walrelay/walrelay/event"
)

// CloudEvents Kafka binary binding header names, in the order records carry them.
const (
	HeaderSpecVersion = "ce_specversion"
	HeaderID          = "ce_id"
	HeaderSource      = "ce_source"
	HeaderType        = "ce_type"
	HeaderTime        = "ce_time"
	HeaderContentType = "content-type"
)

// CloudEvents values.
const (
	SpecVersion       = "1.0"
	ChangeTypePrefix  = "io.walrelay.change." // + op letter
	MessageType       = "io.walrelay.message"
	TombstoneIDSuffix = "-T"
	ContentTypeJSON   = "application/json"
)

// numHeaders is the number of headers on every record.
const numHeaders = 6

var headerKeys = [numHeaders]string{
	HeaderSpecVersion, HeaderID, HeaderSource, HeaderType, HeaderTime, HeaderContentType,
}

// appendCloudEvents appends the values of the CloudEvents headers of ch to
// buf, in headerKeys order, and records where each one lies in sp.
//
// ce_id is ch.ID() (e.g. 00000000016B3748-00000005), with "-T" for a
// tombstone; ce_type is io.walrelay.change.<op> (a tombstone keeps "d") or
// io.walrelay.message; ce_time is ct (the commit time, see eventTime) in
// RFC 3339 UTC with nanoseconds. Tombstones carry content-type too, so every record of a topic
// has the same header set even though a tombstone has no content.
func appendCloudEvents(buf []byte, sp *[numHeaders]span, ch *event.Change, ct time.Time, src, contentType string, tombstone bool) []byte {
	buf = sp[0].appendString(buf, SpecVersion)

	sp[1].start = len(buf)
	buf = appendEventID(buf, ch.Tx.CommitLSN, ch.Ordinal)
	buf = append(buf, ch.IDSuffix...)
	if tombstone {
		buf = append(buf, TombstoneIDSuffix...)
	}
	sp[1].end = len(buf)

	buf = sp[2].appendString(buf, src)

	sp[3].start = len(buf)
	if ch.Op == event.OpMessage {
		buf = append(buf, MessageType...)
	} else {
		buf = append(buf, ChangeTypePrefix...)
		buf = append(buf, byte(ch.Op))
	}
	sp[3].end = len(buf)

	sp[4].start = len(buf)
	buf = ct.UTC().AppendFormat(buf, time.RFC3339Nano)
	sp[4].end = len(buf)

	return sp[5].appendString(buf, contentType)
}

// appendEventID appends event.FormatID(commit, ordinal) without fmt: 16 and 8
// upper-case hex digits joined by '-'.
func appendEventID(dst []byte, commit event.LSN, ordinal uint32) []byte {
	dst = appendHex(dst, uint64(commit), 16)
	dst = append(dst, '-')
	return appendHex(dst, uint64(ordinal), 8)
}

// appendHex appends v as exactly width upper-case hex digits (v must fit).
func appendHex(dst []byte, v uint64, width int) []byte {
	const digits = "0123456789ABCDEF"
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, digits[(v>>(4*uint(i)))&0xF])
	}
	return dst
}
