package schema

import (
	"errors"
	"fmt"
	"time"

	"github.com/walrelay/walrelay/event"
)

// Transaction metadata events (Debezium's provide.transaction.metadata): a
// BEGIN record before a transaction's first published change and an END
// record after its last, on <topic prefix>.transaction, keyed by the
// transaction's ID. Both encoders implement Encoder.EncodeTransaction; the
// JSON form is in txmeta_json.go, the Avro form and its schemas in
// txmeta_avro.go.
//
// Debezium's shapes (io.debezium.schema.SchemaFactory, JsonConverter with
// schemas.enable=false):
//
//	key   {"id":"571:53195829"}
//	BEGIN {"status":"BEGIN","id":"571:53195829","event_count":null,"data_collections":null,"ts_ms":1486500577125}
//	END   {"status":"END","id":"571:53195829","event_count":2,
//	       "data_collections":[{"data_collection":"public.a","event_count":1},...],"ts_ms":1486500577691}

// Statuses of a transaction metadata event.
const (
	TxBegin = "BEGIN"
	TxEnd   = "END"
)

// CloudEvents types (ce_type) of transaction metadata events.
const (
	TxBeginType = "io.walrelay.transaction.begin"
	TxEndType   = "io.walrelay.transaction.end"
)

// ErrTxStatus: a transaction metadata event whose status is neither TxBegin
// nor TxEnd.
var ErrTxStatus = errors.New("transaction metadata status is not BEGIN or END")

// TransactionTopicSuffix is appended to the topic prefix to name the
// transaction metadata topic, as Debezium's default topic.transaction.
const TransactionTopicSuffix = ".transaction"

// TransactionTopic returns the transaction metadata topic of prefix.
func TransactionTopic(prefix string) string {
	return sanitizeTopic(prefix + TransactionTopicSuffix)
}

// TxMetadata is one transaction metadata event.
type TxMetadata struct {
	Status string    // TxBegin or TxEnd
	Tx     *event.Tx // its ID() is the event's id, its CommitTime the ts_ms
	// EventCount and Collections are set on END only: the events of the
	// transaction published (row changes, truncates and transactional
	// logical decoding messages), in all and per collection (a table as
	// schema.table, the messages of one prefix as the prefix) in the order
	// of each collection's first event.
	EventCount  int64
	Collections []TxCollection
}

// TxCollection is one collection's share of a transaction's events.
type TxCollection struct {
	Name       string // schema.table, or a logical message prefix
	EventCount int64
}

// checkTxMetadata rejects what EncodeTransaction cannot encode: a nil event
// or transaction (ErrIncomplete), a status other than TxBegin and TxEnd
// (ErrTxStatus), an empty topic.
func checkTxMetadata(m *TxMetadata, topic string) error {
	switch {
	case m == nil:
		return fmt.Errorf("schema: nil transaction metadata event: %w", ErrIncomplete)
	case m.Tx == nil:
		return fmt.Errorf("schema: transaction metadata event %q has no transaction: %w", m.Status, ErrIncomplete)
	case m.Status != TxBegin && m.Status != TxEnd:
		return fmt.Errorf("schema: transaction metadata event of transaction %s has status %q: %w",
			m.Tx.ID(), m.Status, ErrTxStatus)
	case topic == "":
		return fmt.Errorf("schema: transaction metadata event %s of transaction %s has no topic",
			m.Status, m.Tx.ID())
	}
	return nil
}

// txTime is the time a transaction metadata event is stamped with (ts_ms,
// ce_time): the commit time, or now when the transaction has none.
func txTime(m *TxMetadata, now func() time.Time) time.Time {
	if m.Tx.CommitTime.IsZero() {
		return now()
	}
	return m.Tx.CommitTime
}

// txType returns the ce_type of a (checked) status.
func txType(status string) string {
	if status == TxBegin {
		return TxBeginType
	}
	return TxEndType
}

// appendTxCloudEvents appends the CloudEvents header values of m to buf, in
// headerKeys order, and records where each one lies in sp: ce_id is the
// commit LSN as 16 upper-case hex digits, '-' and the status (e.g.
// 00000000016B3748-BEGIN), distinct from every change event's ID; ce_type
// is TxBeginType or TxEndType; ce_time is ct in RFC 3339 UTC with
// nanoseconds. m must have passed checkTxMetadata.
func appendTxCloudEvents(buf []byte, sp *[numHeaders]span, m *TxMetadata, ct time.Time, src, contentType string) []byte {
	buf = sp[0].appendString(buf, SpecVersion)

	sp[1].start = len(buf)
	buf = appendHex(buf, uint64(m.Tx.CommitLSN), 16)
	buf = append(buf, '-')
	buf = append(buf, m.Status...)
	sp[1].end = len(buf)

	buf = sp[2].appendString(buf, src)
	buf = sp[3].appendString(buf, txType(m.Status))

	sp[4].start = len(buf)
	buf = ct.UTC().AppendFormat(buf, time.RFC3339Nano)
	sp[4].end = len(buf)

	return sp[5].appendString(buf, contentType)
}
