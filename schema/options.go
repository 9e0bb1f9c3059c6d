package schema

import (
	"errors"
	"fmt"
	"time"

	"github.com/walrelay/walrelay/event"
)

// Encoder turns a change into Kafka records (without Ack; the pipeline
// attaches it). A change yields one record, or two for a delete followed by
// its tombstone. Encode is safe for concurrent use. An error means the change
// cannot be represented (a value of an unsupported Go type, a row that does
// not match its relation); it names the table, LSN and column, and the
// pipeline must halt rather than skip the change.
type Encoder interface {
	Encode(ch *event.Change) ([]event.Record, error)
	// EncodeTransaction returns the record of a transaction metadata event
	// on topic (see TxMetadata). Safe for concurrent use.
	EncodeTransaction(m *TxMetadata, topic string) (event.Record, error)
}

// DefaultToastPlaceholder is Debezium's unavailable.value.placeholder.
const DefaultToastPlaceholder = "__debezium_unavailable_value"

// Options configure an encoder. The zero value of each field has the default
// documented on it.
type Options struct {
	// TopicPrefix names topics (<prefix>.<schema>.<table>, <prefix>.message)
	// and is source.name (Debezium's topic.prefix). Required.
	TopicPrefix string
	// Database is source.db and part of ce_source.
	Database string
	// SystemID is the Postgres system identifier, part of ce_source.
	SystemID string
	// Tombstones emits a tombstone (same key, nil value) after each delete.
	// The Go zero value is false; the config's default is true.
	Tombstones bool
	// ToastPlaceholder replaces unchanged TOAST values that Postgres did not
	// send. Default DefaultToastPlaceholder.
	ToastPlaceholder string
	// DecimalMode is decimal.handling.mode for numeric and money columns.
	// Default DecimalPrecise.
	DecimalMode DecimalMode
	// BinaryMode is binary.handling.mode for bytea columns. Default
	// BinaryBytes.
	BinaryMode BinaryMode
	// TimePrecision is time.precision.mode for time, timestamp and date
	// columns. Default TimeAdaptive.
	TimePrecision TimePrecisionMode
	// IntervalMode is interval.handling.mode for interval columns. Default
	// IntervalNumeric.
	IntervalMode IntervalMode
	// Version is walrelay's version, printed as source.version.
	Version string
	// Now gives the processing time printed as ts_ms/ts_us/ts_ns. Default
	// time.Now.
	Now func() time.Time
	// TopicShared, when set, is called once for each pair of tables whose
	// changes go to one default topic (or to two Kafka treats as one), when
	// the second one's first change (or snapshot row) is encoded. Tables a
	// rule routes elsewhere are not counted. Called from any goroutine.
	TopicShared func(SharedTopic)
}

// withDefaults returns o with empty fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.ToastPlaceholder == "" {
		o.ToastPlaceholder = DefaultToastPlaceholder
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate reports options no encoder can work with: an empty topic prefix,
// or one Kafka would reject as part of a topic name. The config loader calls
// it at start-up; NewJSON does not.
func (o *Options) Validate() error {
	if o.TopicPrefix == "" {
		return errors.New("schema: topic_prefix is empty; set it to the name consumers know this database by (e.g. \"app\")")
	}
	for i := 0; i < len(o.TopicPrefix); i++ {
		if !topicChar(o.TopicPrefix[i]) {
			return fmt.Errorf("schema: topic_prefix %q has character %q; use only letters, digits, '.', '_' and '-'", o.TopicPrefix, o.TopicPrefix[i])
		}
	}
	if len(o.TopicPrefix) > 200 {
		return fmt.Errorf("schema: topic_prefix %q is longer than 200 characters; Kafka topic names are at most 249", o.TopicPrefix)
	}
	return nil
}

// Errors returned (wrapped) by encoders; test with errors.Is.
var (
	// ErrUnsupportedValue: a column value has a Go type outside event/value.go.
	ErrUnsupportedValue = errors.New("unsupported value type")
	// ErrRowShape: a row's length differs from its relation's column count.
	ErrRowShape = errors.New("row does not match relation")
	// ErrIncomplete: a change lacks its transaction, relation or message.
	ErrIncomplete = errors.New("incomplete change")
	// ErrDecimalScale: a decimal cannot be represented at its column's scale.
	ErrDecimalScale = errors.New("decimal does not fit column scale")
	// ErrUnrepresentableKey: a key column holds a value its key type cannot
	// carry, so the row cannot be keyed without merging it with other rows:
	// a numeric NaN or ±Infinity in decimal_handling_mode precise (a decimal
	// has no such values, and Debezium's null would give NaN, Infinity and
	// -Infinity rows one Kafka key). Retrying cannot help; the operator
	// switches decimal_handling_mode to string or double, which carry them.
	ErrUnrepresentableKey = errors.New("key value cannot be represented; with a numeric NaN or Infinity in a key column, set decimal_handling_mode to string or double")
)

// checkChange rejects changes that lack what their operation needs.
func checkChange(ch *event.Change) error {
	if ch == nil {
		return fmt.Errorf("schema: nil change: %w", ErrIncomplete)
	}
	if ch.Tx == nil {
		return fmt.Errorf("schema: change %q at LSN %s has no transaction: %w", ch.Op, ch.LSN, ErrIncomplete)
	}
	switch ch.Op {
	case event.OpMessage:
		if ch.Message == nil {
			return fmt.Errorf("schema: message change at LSN %s has no message: %w", ch.LSN, ErrIncomplete)
		}
	case event.OpCreate, event.OpUpdate, event.OpDelete, event.OpRead, event.OpTruncate:
		if ch.Relation == nil {
			return fmt.Errorf("schema: change %q at LSN %s has no relation: %w", ch.Op, ch.LSN, ErrIncomplete)
		}
	default:
		return fmt.Errorf("schema: change at LSN %s has unknown op %q: %w", ch.LSN, byte(ch.Op), ErrIncomplete)
	}
	return nil
}
