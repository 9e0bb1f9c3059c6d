package schema

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/schema/registry"
)

// ContentTypeAvro is the content-type header of Avro records.
const ContentTypeAvro = "application/avro"

// Registry is what the Avro encoder needs from a schema registry
// (registry.Client implements it): the ID of a schema text under a subject,
// registering it after a compatibility check when the subject does not have
// it yet. It is called only when a relation version (or a topic's logical
// message or transaction metadata schemas) is first seen, on the encoding
// goroutine; ctx bounds it. An incompatible schema is reported as a
// *registry.IncompatibleError.
type Registry interface {
	ID(ctx context.Context, subject, schema string) (int, error)
}

// LatestRegistry is a Registry that can also return the latest schema
// registered under a subject, as registered (field properties included),
// with the schemas it references (registry.Registered: Debezium's value
// schemas reference its Source record); found is false when the subject has
// none. registry.Client
// implements it. When the Registry is one, the encoder reads the latest
// value schema of a relation's subject before deriving the relation's first
// schema in the process (AvroOptions.Memory remembers it across
// encoders), so that columns keep the field names already registered for
// them (avro_names.go); a Registry without it gets names as if the subject
// were empty. Called on the encoding goroutine, ctx bounds
// it; an error halts the encoding like any registry error.
type LatestRegistry interface {
	LatestRegistered(ctx context.Context, subject string) (schema registry.Registered, found bool, err error)
}

// AvroOptions configure the Avro encoder beyond Options.
type AvroOptions struct {
	// Registry gives schema IDs. Required.
	Registry Registry
	// RegistryURL is the registry's base URL as consumers and operators
	// reach it, used in error messages ("" to leave it out).
	RegistryURL string
	// RegistryTimeout bounds the registry calls made for one relation
	// version. Default 10s.
	RegistryTimeout time.Duration
	// Log receives one line (at debug) per relation version whose schemas
	// are ready.
	Log zerolog.Logger
	// Memory, if set, is shared by the encoders of one process: each takes
	// from it the relation versions an earlier one derived, so that only a
	// relation new to the process (or changed) needs the registry. See
	// AvroMemory.
	Memory *AvroMemory
}

// AvroEncoder encodes changes as Debezium-shaped Avro in the Confluent wire
// format (magic byte 0, 4-byte big-endian schema ID, Avro binary), with
// TopicNameStrategy subjects <topic>-key and <topic>-value. See avro_doc.go
// for the schemas and the value mapping. Safe for concurrent use.
type AvroEncoder struct {
	o        Options
	ao       AvroOptions
	ceSource string
	msgTopic string
	ph       *placeholders
	topics   *topicCache
	arena    arena // the bytes of the records Encode returns
	plans    planCache
	msgPlans fixedPlanCache // logical message schemas per topic (avro_message.go)
	msgTexts fixedSchemas   // and their texts
	txMeta   fixedPlanCache // transaction metadata schemas per topic (txmeta_avro.go)
	keyJSON  *JSONEncoder   // the JSON of key-change headers (appendKeyHeader)
}

var _ Encoder = (*AvroEncoder)(nil)

// NewAvro returns an Avro encoder. Empty options take their documented
// defaults; call o.Validate first to reject an unusable topic prefix.
func NewAvro(o Options, ao AvroOptions) (*AvroEncoder, error) {
	if ao.Registry == nil {
		return nil, fmt.Errorf("schema: the Avro encoder needs a schema registry")
	}
	if ao.RegistryTimeout <= 0 {
		ao.RegistryTimeout = 10 * time.Second
	}
	o = o.withDefaults()
	return &AvroEncoder{
		o:        o,
		ao:       ao,
		ceSource: event.CloudEventsSource(o.SystemID, o.Database),
		msgTopic: MessageTopic(o.TopicPrefix),
		msgTexts: messageSchemas(o.BinaryMode),
		ph:       newPlaceholders(o.ToastPlaceholder),
		topics:   newTopicCache(o.TopicPrefix, o.TopicShared),
		plans:    planCache{m: map[planKey]*avroPlan{}},
		keyJSON:  NewJSON(o),
	}, nil
}

// Encode returns the records of ch, in the order they must be produced,
// exactly as JSONEncoder.Encode does (a delete's tombstone after it, a
// truncate with a nil key, logical messages on <prefix>.message), with keys
// and values in the Confluent wire format.
//
// The first change of a relation version derives its schemas and registers
// them (see Registry); later changes make no registry call. Errors name the
// table, LSN and column; an *IncompatibleChangeError means the table's new
// definition may not be registered: the pipeline must halt, not skip.
// Called by the pipeline's encode stage, from any goroutine. Records have no
// Ack; their bytes are freshly allocated and owned by the caller.
func (e *AvroEncoder) Encode(ch *event.Change) ([]event.Record, error) {
	if err := checkChange(ch); err != nil {
		return nil, err
	}
	w := getWriter()
	defer putWriter(w)
	var layouts [2]recordLayout
	var n int
	var err error
	now := e.o.Now()
	ct := eventTime(ch, now)
	if ch.Op == event.OpMessage {
		n, err = e.encodeMessage(w, &layouts, ch, now, ct)
	} else {
		n, err = e.encodeRow(w, &layouts, ch, now, ct)
	}
	if err != nil {
		return nil, encodeError(ch, err)
	}
	buf := w.Buffer()
	for i := range n {
		l := &layouts[i]
		buf = appendCloudEvents(buf, &l.headers, ch, ct, e.ceSource, ContentTypeAvro, i == 1)
	}
	if ch.KeyPeer != nil {
		if buf, err = appendKeyHeader(buf, layouts[:n], e.keyJSON, ch, e.o.TopicPrefix); err != nil {
			return nil, encodeError(ch, err)
		}
	}
	return build(&e.arena, buf, layouts[:n]), nil
}

// encodeError wraps an encoding failure of ch with its table, LSN and event ID.
func encodeError(ch *event.Change, err error) error {
	return fmt.Errorf("schema: encode %s %s at LSN %s (event %s): %w", ch.Op, relName(ch), ch.LSN, ch.ID(), err)
}

func relName(ch *event.Change) string {
	if ch.Relation == nil {
		return "message"
	}
	return ch.Relation.QualifiedName()
}

// encodeRow writes the key and value of a row change or truncate (and the
// tombstone layout of a delete) into w.
func (e *AvroEncoder) encodeRow(w *avro.Writer, ls *[2]recordLayout, ch *event.Change, now, ct time.Time) (int, error) {
	rel := ch.Relation
	p, err := e.plan(rel, e.topics.forChange(ch))
	if err != nil {
		return 0, err
	}
	if err := checkRows(rel, ch); err != nil {
		return 0, err
	}
	l := &ls[0]
	l.topic = p.topic
	if ch.Op != event.OpTruncate && p.hasKey {
		row := ch.After
		if ch.Op == event.OpDelete {
			row = ch.Before
		}
		if row == nil {
			return 0, fmt.Errorf("no row to take the key from: %w", ErrIncomplete)
		}
		l.key.start = w.Buffered()
		_, _ = w.Write(p.keyHdr[:])
		if err := writeRow(w, p.key, row, "key"); err != nil {
			return 0, err
		}
		l.key.end, l.hasKey = w.Buffered(), true
	}
	l.value.start = w.Buffered()
	_, _ = w.Write(p.valueHdr[:])
	if err := e.writeEnvelope(w, p, ch, now, ct); err != nil {
		return 0, err
	}
	l.value.end, l.hasValue = w.Buffered(), true
	if ch.Op != event.OpDelete || !e.o.Tombstones || !l.hasKey {
		return 1, nil
	}
	t := &ls[1]
	t.topic, t.key, t.hasKey = l.topic, l.key, true
	return 2, nil
}

// checkRows rejects rows whose length differs from the relation's columns.
func checkRows(rel *event.Relation, ch *event.Change) error {
	for _, row := range [][]any{ch.Before, ch.After} {
		if row != nil && len(row) != len(rel.Columns) {
			return fmt.Errorf("%d values for %d columns: %w", len(row), len(rel.Columns), ErrRowShape)
		}
	}
	return nil
}

// writeEnvelope writes the Envelope: before, after, source, op, ts_ms,
// ts_us, ts_ns, transaction. A truncate has before and after null.
func (e *AvroEncoder) writeEnvelope(w *avro.Writer, p *avroPlan, ch *event.Change, now, ct time.Time) error {
	before, after := ch.Before, ch.After
	if ch.Op == event.OpTruncate {
		before, after = nil, nil
	}
	for _, img := range []struct {
		row  []any
		what string
	}{{before, "before"}, {after, "after"}} {
		if img.row == nil {
			w.WriteLong(0)
			continue
		}
		w.WriteLong(1)
		if err := writeRow(w, p.value, img.row, img.what); err != nil {
			return err
		}
	}
	src := sourceOf(&e.o, ch, ct)
	writeSource(w, &src)
	writeOp(w, ch.Op)
	writeTimes(w, now, true)
	if ch.Op == event.OpRead { // a snapshot read is in no transaction, as in Debezium
		w.WriteLong(0)
		return nil
	}
	w.WriteLong(1) // transaction: event.block
	writeBlock(w, ch)
	return nil
}

// writeBlock writes ch's transaction block (event.block): id, total_order,
// data_collection_order.
func writeBlock(w *avro.Writer, ch *event.Change) {
	var tmp [32]byte
	w.WriteBytes(appendTxID(tmp[:0], ch.Tx))
	w.WriteLong(int64(ch.TotalOrder))
	w.WriteLong(int64(ch.DataCollectionOrder))
}

// writeOp writes op as a one-letter string.
func writeOp(w *avro.Writer, op event.Op) {
	w.WriteLong(1)
	_, _ = w.Write([]byte{byte(op)})
}

// writeTimes writes ts_ms and, when fine is set, ts_us and ts_ns, each as
// the non-null branch of ["null","long"].
func writeTimes(w *avro.Writer, t time.Time, fine bool) {
	w.WriteLong(1)
	w.WriteLong(t.UnixMilli())
	if !fine {
		return
	}
	w.WriteLong(1)
	w.WriteLong(t.UnixMicro())
	w.WriteLong(1)
	w.WriteLong(t.UnixNano())
}

// writeSource writes io.debezium.connector.postgresql.Source.
func writeSource(w *avro.Writer, s *source) {
	w.WriteString(s.version)
	w.WriteString(Connector)
	w.WriteString(s.name)
	w.WriteLong(s.tsMs)
	w.WriteLong(0) // snapshot: [Enum string, null], the string
	w.WriteString(s.snapshot)
	w.WriteString(s.db)
	var tmp [48]byte
	w.WriteLong(1)
	w.WriteBytes(s.appendSequence(tmp[:0]))
	w.WriteLong(1)
	w.WriteLong(s.tsUs)
	w.WriteLong(1)
	w.WriteLong(s.tsNs)
	w.WriteString(s.schema)
	w.WriteString(s.table)
	if s.hasTxID {
		w.WriteLong(1)
		w.WriteLong(s.txID)
	} else {
		w.WriteLong(0)
	}
	w.WriteLong(1)
	w.WriteLong(int64(s.lsn))
	w.WriteLong(0) // xmin
	w.WriteLong(0) // origin
	w.WriteLong(0) // origin_lsn
}

// maxPooledWriter bounds the writers kept for reuse (see maxPooledScratch).
const maxPooledWriter = 1 << 20

var writerPool = sync.Pool{New: func() any { return avro.NewWriter(nil, 4096) }}

func getWriter() *avro.Writer {
	w := writerPool.Get().(*avro.Writer)
	w.Reset(nil)
	return w
}

func putWriter(w *avro.Writer) {
	if cap(w.Buffer()) > maxPooledWriter {
		return
	}
	writerPool.Put(w)
}
