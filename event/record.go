package event

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is an encoded Kafka record. A nil Value is a tombstone.
//
// Ack travels with the record (as in Benthos): the sink calls it exactly once,
// with nil after the broker acknowledged the record with acks=all, or after the
// record was written to the dead-letter topic. The sink never calls Ack with an
// error for a record it gave up on; it halts instead (see sink). Ack must be
// cheap and safe to call from any goroutine.
type Record struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
	Ack     func()
}

// Size is the record's approximate in-memory size, used for in-flight byte caps.
func (r *Record) Size() int {
	n := len(r.Topic) + len(r.Key) + len(r.Value) + 64
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// CloudEventsSource is the ce_source of every event of a database: its
// system identifier and name, "/walrelay/<system id>/<database>".
func CloudEventsSource(systemID, database string) string {
	return "/walrelay/" + systemID + "/" + database
}
