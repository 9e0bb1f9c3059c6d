package schema

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/event"
)

// messagePlan holds the registered schemas of logical decoding messages
// (topic <prefix>.message), derived once per encoder.
type messagePlan struct {
	keyHdr, valueHdr [wireHeaderLen]byte
}

// msgPlan returns the message schemas' plan, registering them on first use.
func (e *AvroEncoder) msgPlan() (*messagePlan, error) {
	if p := e.msg.Load(); p != nil {
		return p, nil
	}
	e.msgMu.Lock()
	defer e.msgMu.Unlock()
	if p := e.msg.Load(); p != nil {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.ao.RegistryTimeout)
	defer cancel()
	keyID, err := e.ao.Registry.ID(ctx, e.msgTopic+"-key", messageKeySchema())
	if err != nil {
		return nil, fmt.Errorf("schema: registering the logical message key schema: %w", err)
	}
	valueID, err := e.ao.Registry.ID(ctx, e.msgTopic+"-value", messageValueSchema(e.o.BinaryMode))
	if err != nil {
		return nil, fmt.Errorf("schema: registering the logical message value schema: %w", err)
	}
	p := &messagePlan{keyHdr: wireHeader(keyID), valueHdr: wireHeader(valueID)}
	e.msg.Store(p)
	return p, nil
}

// encodeMessage writes the record of a logical decoding message, shaped as
// Debezium's MessageKey {prefix} and MessageValue {op "m", ts_ms
// (processing time), source (schema and table empty), transaction (the
// block of a transactional message, else null), message {prefix,
// content}}.
func (e *AvroEncoder) encodeMessage(w *avro.Writer, ls *[2]recordLayout, ch *event.Change, now, ct time.Time) (int, error) {
	p, err := e.msgPlan()
	if err != nil {
		return 0, err
	}
	m := ch.Message
	l := &ls[0]
	l.topic = cmp.Or(ch.Topic, e.msgTopic)
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
