package schema

import (
	"strconv"
	"time"

	"github.com/walrelay/walrelay/event"
)

// EncodeTransaction returns the record of the transaction metadata event m
// on topic (normally TransactionTopic(prefix)), as Debezium's JsonConverter
// with schemas.enable=false writes it: key {"id":...}; value {status, id,
// event_count, data_collections, ts_ms}, with event_count and
// data_collections null on BEGIN (m.EventCount and m.Collections are
// ignored there) and ts_ms the commit time in milliseconds. Headers are the
// CloudEvents set (see appendTxCloudEvents) with content-type
// application/json.
//
// Called by the pipeline from any goroutine. The record has no Ack; its
// bytes are freshly allocated and owned by the caller. A nil m or m.Tx, a
// status other than TxBegin or TxEnd, or an empty topic is an error and no
// record is returned.
func (e *JSONEncoder) EncodeTransaction(m *TxMetadata, topic string) (event.Record, error) {
	if err := checkTxMetadata(m, topic); err != nil {
		return event.Record{}, err
	}
	ct := txTime(m, e.o.Now)
	p := getScratch()
	buf := *p
	var ls [1]recordLayout
	l := &ls[0]
	l.topic = topic

	l.key.start = len(buf)
	buf = append(buf, `{"id":"`...)
	buf = appendTxID(buf, m.Tx)
	buf = append(buf, `"}`...)
	l.key.end, l.hasKey = len(buf), true

	l.value.start = len(buf)
	buf = appendJSONTxValue(buf, m, ct)
	l.value.end, l.hasValue = len(buf), true

	buf = appendTxCloudEvents(buf, &l.headers, m, ct, e.ceSource, ContentTypeJSON)
	recs := build(&e.arena, buf, ls[:])
	putScratch(p, buf)
	return recs[0], nil
}

// appendJSONTxValue appends the TransactionMetadataValue of m in Debezium's
// field order. m must have passed checkTxMetadata.
func appendJSONTxValue(buf []byte, m *TxMetadata, ct time.Time) []byte {
	buf = append(buf, `{"status":"`...)
	buf = append(buf, m.Status...)
	buf = append(buf, `","id":"`...)
	buf = appendTxID(buf, m.Tx)
	if m.Status == TxBegin {
		buf = append(buf, `","event_count":null,"data_collections":null`...)
	} else {
		buf = append(buf, `","event_count":`...)
		buf = strconv.AppendInt(buf, m.EventCount, 10)
		buf = append(buf, `,"data_collections":[`...)
		for i := range m.Collections {
			c := &m.Collections[i]
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"data_collection":`...)
			buf = appendJSONString(buf, c.Name)
			buf = append(buf, `,"event_count":`...)
			buf = strconv.AppendInt(buf, c.EventCount, 10)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"ts_ms":`...)
	buf = strconv.AppendInt(buf, ct.UnixMilli(), 10)
	return append(buf, '}')
}
