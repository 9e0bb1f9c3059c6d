package sink

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/event"
)

// Headers of a dead-letter record that stands in for a record too large for
// the dead-letter topic too (deadLetterTooLarge).
const (
	// HeaderValue says what became of the original value: "omitted".
	HeaderValue = "walrelay.value"
	// HeaderOriginalValueBytes is the original value's size in bytes.
	HeaderOriginalValueBytes = "walrelay.original.value_bytes"
)

// ValueOmitted is the HeaderValue (and the "value" field) of a dead-letter
// record whose original value was left out because Kafka refused it as too
// large on the dead-letter topic as well.
const ValueOmitted = "omitted"

// DeadLetterSummary is the JSON value of the dead-letter record written in
// place of a record too large for the dead-letter topic: where the record
// was going, which change it carried and why it is not there. Its Kafka key
// is the original key, and its headers are the original ones (content-type
// replaced by application/json) plus the walrelay.* headers.
type DeadLetterSummary struct {
	Reason            string `json:"reason"`
	OriginalTopic     string `json:"original_topic"`
	OriginalPartition int    `json:"original_partition"`
	// Key is the original partition key, base64 (it is also the record's key).
	Key []byte `json:"key"`
	// EventID is the ce_id header; CommitLSN and Ordinal the source position
	// it stands for (the transaction's commit LSN, the change's ordinal in it).
	EventID    string `json:"event_id,omitempty"`
	CommitLSN  string `json:"commit_lsn,omitempty"`
	Ordinal    *int64 `json:"ordinal,omitempty"`
	KeyBytes   int    `json:"key_bytes"`
	ValueBytes int    `json:"value_bytes"`
	// Value is ValueOmitted: the original value is not in the record.
	Value string `json:"value"`
	// Error is why the original topic rejected the record; DeadLetterError
	// why the dead-letter topic rejected it as it was.
	Error           string `json:"error"`
	DeadLetterError string `json:"dead_letter_error"`
}

// tooLarge reports whether err is Kafka's refusal of a record by its size.
func tooLarge(err error) bool {
	return errors.Is(err, kafka.MessageSizeTooLarge) || errors.Is(err, kafka.RecordListTooLarge)
}

// deadLetterSummary builds the record written to the dead-letter topic in
// place of rec, which the dead-letter topic refused as too large (dlqErr)
// after the original topic rejected it (cause): rec's key and headers, and a
// DeadLetterSummary instead of its value.
func (w *writer) deadLetterSummary(rec *event.Record, cause, dlqErr error) *event.Record {
	id := eventID(rec)
	sum := DeadLetterSummary{
		Reason: "the record was rejected, and the dead-letter topic refused it as too large too: " +
			"its value is omitted",
		OriginalTopic: w.topic, OriginalPartition: w.partition, Key: rec.Key, EventID: id,
		KeyBytes: len(rec.Key), ValueBytes: len(rec.Value), Value: ValueOmitted,
		Error: cause.Error(), DeadLetterError: dlqErr.Error(),
	}
	sum.CommitLSN, sum.Ordinal = sourcePosition(id)
	value, _ := json.Marshal(sum) // plain fields: cannot fail
	headers := make([]event.Header, 0, len(rec.Headers)+2)
	for _, h := range rec.Headers {
		if h.Key != "content-type" {
			headers = append(headers, h)
		}
	}
	headers = append(headers,
		event.Header{Key: "content-type", Value: []byte("application/json")},
		event.Header{Key: HeaderValue, Value: []byte(ValueOmitted)},
		event.Header{Key: HeaderOriginalValueBytes, Value: []byte(strconv.Itoa(len(rec.Value)))})
	return &event.Record{Topic: rec.Topic, Key: rec.Key, Value: value, Headers: headers}
}

// sourcePosition parses an event ID (event.FormatID: commit LSN and ordinal,
// fixed-width hex) into the commit LSN and the ordinal; empty for an ID of
// another form.
func sourcePosition(id string) (string, *int64) {
	lsnHex, ordHex, ok := strings.Cut(id, "-")
	if !ok || len(lsnHex) != 16 || len(ordHex) < 8 {
		return "", nil
	}
	lsn, err1 := strconv.ParseUint(lsnHex, 16, 64)
	ord, err2 := strconv.ParseInt(ordHex[:8], 16, 64)
	if err1 != nil || err2 != nil {
		return "", nil
	}
	return event.LSN(lsn).String(), &ord
}
