package schema

import (
	"fmt"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/walrelay/walrelay/event"
)

// Record names of transaction metadata events, as Debezium's SchemaFactory
// names them (connect.version 1 each). The per-table item record is
// "event.collection", like the change envelope's "event.block".
const (
	txKeyName        = "io.debezium.connector.common.TransactionMetadataKey"
	txValueName      = "io.debezium.connector.common.TransactionMetadataValue"
	txCollectionName = "event.collection"
)

// txKeySchema renders TransactionMetadataKey {id: string}.
func txKeySchema() string {
	return jsonText(record(txKeyName, jarr{jobj{{"name", "id"}, {"type", "string"}}}, connectVersion1))
}

// txValueSchema renders TransactionMetadataValue as Confluent's AvroData
// converts Debezium's Connect schema: status, id, event_count (optional
// long), data_collections (optional array of optional event.collection
// records {data_collection, event_count}), ts_ms (long).
func txValueSchema() string {
	coll := record(txCollectionName, jarr{
		jobj{{"name", "data_collection"}, {"type", "string"}},
		jobj{{"name", "event_count"}, {"type", "long"}},
	}, connectVersion1)
	return jsonText(record(txValueName, jarr{
		jobj{{"name", "status"}, {"type", "string"}},
		jobj{{"name", "id"}, {"type", "string"}},
		optionalField("event_count", "long"),
		optionalField("data_collections", jobj{{"type", "array"}, {"items", jarr{"null", coll}}}),
		jobj{{"name", "ts_ms"}, {"type", "long"}},
	}, connectVersion1))
}

// txSchemas are the transaction metadata schemas, registered per topic.
var txSchemas = fixedSchemas{what: "transaction metadata", key: txKeySchema(), value: txValueSchema()}

// EncodeTransaction returns the record of the transaction metadata event m
// on topic, as JSONEncoder.EncodeTransaction does, with key and value in the
// Confluent wire format (Debezium's TransactionMetadataKey and
// TransactionMetadataValue, see txValueSchema) and content-type
// application/avro.
//
// The first event on a topic registers the two schemas under <topic>-key
// and <topic>-value (see Registry); later events make no registry call.
// Called by the pipeline from any goroutine. The record has no Ack; its
// bytes are freshly allocated and owned by the caller. A nil m or m.Tx, a
// status other than TxBegin or TxEnd, an empty topic, or a registry failure
// (wrapped, naming the subject) is an error and no record is returned.
func (e *AvroEncoder) EncodeTransaction(m *TxMetadata, topic string) (event.Record, error) {
	if err := checkTxMetadata(m, topic); err != nil {
		return event.Record{}, err
	}
	p, err := e.txMeta.plan(topic, &txSchemas, e.ao.Registry, e.ao.RegistryTimeout, e.ao.Log)
	if err != nil {
		return event.Record{}, fmt.Errorf("schema: encode transaction metadata %s of transaction %s on topic %s: %w",
			m.Status, m.Tx.ID(), topic, err)
	}
	ct := txTime(m, e.o.Now)
	w := getWriter()
	defer putWriter(w)
	var ls [1]recordLayout
	l := &ls[0]
	l.topic = topic
	var id [32]byte

	l.key.start = w.Buffered()
	_, _ = w.Write(p.keyHdr[:])
	w.WriteBytes(appendTxID(id[:0], m.Tx))
	l.key.end, l.hasKey = w.Buffered(), true

	l.value.start = w.Buffered()
	_, _ = w.Write(p.valueHdr[:])
	writeTxValue(w, m, appendTxID(id[:0], m.Tx), ct)
	l.value.end, l.hasValue = w.Buffered(), true

	buf := appendTxCloudEvents(w.Buffer(), &l.headers, m, ct, e.ceSource, ContentTypeAvro)
	return build(&e.arena, buf, ls[:])[0], nil
}

// writeTxValue writes TransactionMetadataValue: on BEGIN event_count and
// data_collections are null; on END they are the non-null branches, the
// array written as one block (or none when empty) and its items as the
// record branch of ["null", event.collection].
func writeTxValue(w *avro.Writer, m *TxMetadata, id []byte, ct time.Time) {
	w.WriteString(m.Status)
	w.WriteBytes(id)
	if m.Status == TxBegin {
		w.WriteLong(0) // event_count: null
		w.WriteLong(0) // data_collections: null
	} else {
		w.WriteLong(1)
		w.WriteLong(m.EventCount)
		w.WriteLong(1)
		if n := len(m.Collections); n > 0 {
			w.WriteLong(int64(n))
			for i := range m.Collections {
				c := &m.Collections[i]
				w.WriteLong(1)
				w.WriteString(c.Name)
				w.WriteLong(c.EventCount)
			}
		}
		w.WriteLong(0) // end of the array
	}
	w.WriteLong(ct.UnixMilli())
}
