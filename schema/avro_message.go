package schema

import (
	"cmp"
	"fmt"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/event"
)

// messageSchemas returns the logical message schemas of binary mode bin,
// registered per topic: <prefix>.message, or the topic the pipeline sets on
// the change (heartbeat.topic), each under its own <topic>-key and
// <topic>-value subjects.
func messageSchemas(bin BinaryMode) fixedSchemas {
	return fixedSchemas{what: "logical message", key: messageKeySchema(), value: messageValueSchema(bin)}
}

// encodeMessage writes the record of a logical decoding message, shaped as
// Debezium's MessageKey {prefix} and MessageValue {op "m", ts_ms
// (processing time), source (schema and table empty), transaction (the
// block of a transactional message, else null), message {prefix,
// content}}. The record goes to ch.Topic, or <prefix>.message when it is
// empty; the first message on a topic registers the schemas under that
// topic's subjects (a registry failure is returned naming the subject).
func (e *AvroEncoder) encodeMessage(w *avro.Writer, ls *[2]recordLayout, ch *event.Change, now, ct time.Time) (int, error) {
	topic := cmp.Or(ch.Topic, e.msgTopic)
	p, err := e.msgPlans.plan(topic, &e.msgTexts, e.ao.Registry, e.ao.RegistryTimeout, e.ao.Log)
	if err != nil {
		return 0, fmt.Errorf("topic %s: %w", topic, err)
	}
	m := ch.Message
	l := &ls[0]
	l.topic = topic
	l.key.start = w.Buffered()
	_, _ = w.Write(p.keyHdr[:])
	w.WriteLong(1)
	w.WriteString(m.Prefix)
	l.key.end, l.hasKey = w.Buffered(), true

	l.value.start = w.Buffered()
	_, _ = w.Write(p.valueHdr[:])
	writeOp(w, event.OpMessage)
	writeTimes(w, now, false)
	src := sourceOf(&e.o, ch, ct)
	writeSource(w, &src)
	if transactional(ch) {
		w.WriteLong(1)
		writeBlock(w, ch)
	} else {
		w.WriteLong(0)
	}
	w.WriteLong(1) // message.prefix
	w.WriteString(m.Prefix)
	w.WriteLong(1) // message.content
	if e.o.BinaryMode != BinaryBytes {
		w.WriteString(binaryText(m.Content, e.o.BinaryMode))
	} else {
		w.WriteBytes(m.Content)
	}
	l.value.end, l.hasValue = w.Buffered(), true
	return 1, nil
}
