package schema

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"github.com/walrelay/walrelay/event"
)

// JSONEncoder encodes changes as Debezium JSON (JsonConverter with
// schemas.enable=false); see the package doc for the value mapping. It holds
// no per-change state and is safe for concurrent use.
type JSONEncoder struct {
	o        Options
	ceSource string
	msgTopic string
	ph       *placeholders
	plans    *jsonPlans
	topics   *topicCache // default topics, and their collisions (Options.TopicShared)
	srcHead  string      // the source block up to its ts_ms, escaped once
	srcDB    string      // the source block's db field, escaped once
	arena    arena       // the bytes of the records Encode returns
}

var _ Encoder = (*JSONEncoder)(nil)

// NewJSON returns a JSON encoder. Empty options take their documented
// defaults; call o.Validate first to reject an unusable topic prefix.
func NewJSON(o Options) *JSONEncoder {
	o = o.withDefaults()
	return &JSONEncoder{
		o:        o,
		ceSource: event.CloudEventsSource(o.SystemID, o.Database),
		msgTopic: MessageTopic(o.TopicPrefix),
		ph:       newPlaceholders(o.ToastPlaceholder),
		plans:    newJSONPlans(o.TopicPrefix),
		topics:   newTopicCache(o.TopicPrefix, o.TopicShared),
		srcHead:  jsonSourceHead(o.Version, o.TopicPrefix),
		srcDB:    string(appendJSONString([]byte(`,"db":`), o.Database)),
	}
}

// Encode returns the records of ch, in the order they must be produced:
//   - insert, update, delete, snapshot read: one record on the table's topic,
//     keyed by the key columns (nil key when the relation has none); a delete
//     is followed by a tombstone (same key, nil value) when Options.Tombstones
//     is set and the table has a key (a keyless tombstone deletes nothing and
//     compacted topics reject it);
//   - truncate: one record with a nil key and op "t";
//   - logical message: one record on <prefix>.message keyed {"prefix":...}.
//
// Called by the pipeline's encode stage, from any goroutine. Records have no
// Ack; their bytes are freshly allocated and owned by the caller. On error no
// record is returned and the error names the table, LSN and column.
func (e *JSONEncoder) Encode(ch *event.Change) ([]event.Record, error) {
	if err := checkChange(ch); err != nil {
		return nil, err
	}
	p := getScratch()
	buf := *p
	var layouts [2]recordLayout
	var n int
	var err error
	if ch.Op == event.OpMessage {
		buf, n = e.encodeMessage(buf, &layouts, ch)
	} else {
		buf, n, err = e.encodeRow(buf, &layouts, ch)
	}
	if err != nil {
		putScratch(p, buf)
		return nil, fmt.Errorf("schema: encode %s %s at LSN %s (event %s): %w",
			ch.Op, ch.Relation.QualifiedName(), ch.LSN, ch.ID(), err)
	}
	recs := build(&e.arena, buf, layouts[:n])
	putScratch(p, buf)
	return recs, nil
}

// encodeRow writes the records of a row change or truncate into buf.
func (e *JSONEncoder) encodeRow(buf []byte, ls *[2]recordLayout, ch *event.Change) ([]byte, int, error) {
	rel := ch.Relation
	now := e.o.Now()
	ct := eventTime(ch, now)
	p := e.plans.get(rel)
	l := &ls[0]
	if l.topic = ch.Topic; l.topic == "" {
		l.topic = p.topic
		if !p.noted.Load() { // once per plan: the cache reports shared topics
			e.topics.get(rel)
			p.noted.Store(true)
		}
	}
	if ch.Op != event.OpTruncate && hasKey(rel) {
		row := ch.After
		if ch.Op == event.OpDelete {
			row = ch.Before
		}
		if row == nil {
			return buf, 0, fmt.Errorf("no row to take the key from: %w", ErrIncomplete)
		}
		var err error
		l.key.start = len(buf)
		if buf, err = e.appendKey(buf, rel, p.names, row); err != nil {
			return buf, 0, err
		}
		l.key.end, l.hasKey = len(buf), true
	}
	var err error
	l.value.start = len(buf)
	if buf, err = e.appendEnvelope(buf, ch, p, now, ct); err != nil {
		return buf, 0, err
	}
	l.value.end, l.hasValue = len(buf), true
	buf = appendCloudEvents(buf, &l.headers, ch, ct, e.ceSource, ContentTypeJSON, false)
	n := 1
	if ch.Op == event.OpDelete && e.o.Tombstones && l.hasKey {
		t := &ls[1]
		t.topic, t.key, t.hasKey = l.topic, l.key, true
		buf = appendCloudEvents(buf, &t.headers, ch, ct, e.ceSource, ContentTypeJSON, true)
		n = 2
	}
	if ch.KeyPeer != nil {
		if buf, err = appendKeyHeader(buf, ls[:n], e, ch, e.o.TopicPrefix); err != nil {
			return buf, 0, err
		}
	}
	return buf, n, nil
}

// hasKey reports whether rel has key columns (without KeyColumns' allocation).
func hasKey(rel *event.Relation) bool {
	for i := range rel.Columns {
		if rel.Columns[i].Key {
			return true
		}
	}
	return false
}

// appendEnvelope appends the Debezium envelope of a row change or truncate:
// before, after, source, op, ts_ms, ts_us, ts_ns, transaction. A truncate has
// before and after null. p is the plan of ch.Relation, now the processing
// time, ct the event time.
func (e *JSONEncoder) appendEnvelope(buf []byte, ch *event.Change, p *jsonPlan, now, ct time.Time) ([]byte, error) {
	before, after := ch.Before, ch.After
	if ch.Op == event.OpTruncate {
		before, after = nil, nil
	}
	var err error
	buf = append(buf, `{"before":`...)
	if buf, err = e.appendRow(buf, ch.Relation, p.names, before); err != nil {
		return buf, fmt.Errorf("before: %w", err)
	}
	buf = append(buf, `,"after":`...)
	if buf, err = e.appendRow(buf, ch.Relation, p.names, after); err != nil {
		return buf, fmt.Errorf("after: %w", err)
	}
	buf = append(buf, `,"source":`...)
	src := sourceOf(&e.o, ch, ct)
	buf = e.appendJSONSource(buf, &src, p.tables)
	buf = appendJSONOp(buf, ch.Op)
	buf = appendJSONTimes(buf, now, true)
	buf = append(buf, `,"transaction":`...)
	if ch.Op == event.OpRead { // a snapshot read is in no transaction, as in Debezium
		buf = append(buf, "null"...)
	} else {
		buf = appendJSONBlock(buf, ch)
	}
	return append(buf, '}'), nil
}

// appendJSONBlock appends ch's transaction block: {"id", "total_order",
// "data_collection_order"}.
func appendJSONBlock(buf []byte, ch *event.Change) []byte {
	buf = append(buf, `{"id":"`...)
	buf = appendTxID(buf, ch.Tx)
	buf = append(buf, `","total_order":`...)
	buf = strconv.AppendUint(buf, uint64(ch.TotalOrder), 10)
	buf = append(buf, `,"data_collection_order":`...)
	buf = strconv.AppendUint(buf, uint64(ch.DataCollectionOrder), 10)
	return append(buf, '}')
}

// transactional reports whether a logical decoding message was emitted in
// a transaction, and so has a transaction block as in Debezium.
func transactional(ch *event.Change) bool { return ch.Message != nil && ch.Message.Transactional }

// encodeMessage writes the record of a logical decoding message, shaped as
// Debezium's io.debezium.connector.postgresql.MessageValue: op "m", ts_ms
// (processing time), source (schema and table empty; txId null and ts_ms the
// processing time when the message is not transactional), transaction (the
// block of a transactional message, else null), message {prefix, content as
// base64, or as binary.handling.mode's text}.
func (e *JSONEncoder) encodeMessage(buf []byte, ls *[2]recordLayout, ch *event.Change) ([]byte, int) {
	m := ch.Message
	now := e.o.Now()
	ct := eventTime(ch, now)
	l := &ls[0]
	l.topic = cmp.Or(ch.Topic, e.msgTopic)
	l.key.start = len(buf)
	buf = append(buf, `{"prefix":`...)
	buf = appendJSONString(buf, m.Prefix)
	buf = append(buf, '}')
	l.key.end, l.hasKey = len(buf), true

	l.value.start = len(buf)
	buf = append(buf, `{"op":"m"`...)
	buf = appendJSONTimes(buf, now, false)
	buf = append(buf, `,"source":`...)
	src := sourceOf(&e.o, ch, ct)
	buf = e.appendJSONSource(buf, &src, messageTables)
	buf = append(buf, `,"transaction":`...)
	if transactional(ch) {
		buf = appendJSONBlock(buf, ch)
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"message":{"prefix":`...)
	buf = appendJSONString(buf, m.Prefix)
	buf = append(buf, `,"content":`...)
	if e.o.BinaryMode > BinaryBase64 {
		buf = appendJSONString(buf, binaryText(m.Content, e.o.BinaryMode))
	} else {
		buf = appendJSONBase64(buf, m.Content)
	}
	buf = append(buf, "}}"...)
	l.value.end, l.hasValue = len(buf), true

	buf = appendCloudEvents(buf, &l.headers, ch, ct, e.ceSource, ContentTypeJSON, false)
	return buf, 1
}

// appendJSONOp appends `,"op":"<letter>"`.
func appendJSONOp(buf []byte, op event.Op) []byte {
	buf = append(buf, `,"op":"`...)
	buf = append(buf, byte(op))
	return append(buf, '"')
}

// appendJSONTimes appends `,"ts_ms":` and, when fine is set, ts_us and ts_ns.
func appendJSONTimes(buf []byte, t time.Time, fine bool) []byte {
	buf = append(buf, `,"ts_ms":`...)
	if !fine {
		return strconv.AppendInt(buf, t.UnixMilli(), 10)
	}
	var tmp [64]byte
	d := timeDigitsOf(tmp[:0], t.UnixMilli(), t.UnixMicro(), t.UnixNano())
	buf = append(buf, d.ms...)
	buf = append(buf, `,"ts_us":`...)
	buf = append(buf, d.us...)
	buf = append(buf, `,"ts_ns":`...)
	return append(buf, d.ns...)
}

// messageTables is the schema and table of a logical message's source
// block: both empty.
const messageTables = `,"schema":"","table":""`

// jsonSourceHead is the start of every source block of an encoder: version,
// connector and name, up to the ts_ms field.
func jsonSourceHead(version, name string) string {
	buf := appendJSONString([]byte(`{"version":`), version)
	buf = append(buf, `,"connector":"`+Connector+`","name":`...)
	return string(appendJSONString(buf, name))
}

// appendJSONSource appends the source block in Debezium's field order; tables
// is s's schema and table as appendJSONTables prints them.
func (e *JSONEncoder) appendJSONSource(buf []byte, s *source, tables string) []byte {
	buf = append(buf, e.srcHead...)
	var tsTmp [64]byte
	ts := timeDigitsOf(tsTmp[:0], s.tsMs, s.tsUs, s.tsNs)
	buf = append(buf, `,"ts_ms":`...)
	buf = append(buf, ts.ms...)
	buf = append(buf, `,"snapshot":`...)
	buf = appendJSONString(buf, s.snapshot)
	buf = append(buf, e.srcDB...)
	// sequence is the JSON text of appendSequence as a JSON string.
	if s.read {
		buf = append(buf, `,"sequence":"[null,\"`...)
	} else {
		buf = append(buf, `,"sequence":"[\"`...)
		buf = strconv.AppendUint(buf, s.commitLSN, 10)
		buf = append(buf, `\",\"`...)
	}
	buf = strconv.AppendUint(buf, s.lsn, 10)
	buf = append(buf, `\"]","ts_us":`...)
	buf = append(buf, ts.us...)
	buf = append(buf, `,"ts_ns":`...)
	buf = append(buf, ts.ns...)
	buf = append(buf, tables...)
	buf = append(buf, `,"txId":`...)
	if s.hasTxID {
		buf = strconv.AppendInt(buf, s.txID, 10)
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, `,"lsn":`...)
	buf = strconv.AppendUint(buf, s.lsn, 10)
	return append(buf, `,"xmin":null,"origin":null,"origin_lsn":null}`...)
}
