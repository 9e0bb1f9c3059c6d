package filter

import (
	"time"

	"github.com/walrelay/walrelay/event"
)

// CloudEvents header names, as schema/cloudevents.go writes them.
const (
	headerSpecVersion = "ce_specversion"
	headerID          = "ce_id"
	headerSource      = "ce_source"
	headerType        = "ce_type"
	headerTime        = "ce_time"
	headerContentType = "content-type"
)

// Record builds the Kafka record of e with the CloudEvents binary-binding
// headers every walrelay record carries, in the encoders' order:
// ce_specversion 1.0, ce_id, ce_source (see event.CloudEventsSource), ce_type, ce_time (the
// commit time, RFC 3339 UTC with nanoseconds) and content-type. The record
// has no Ack; the pipeline attaches it.
func (e *RawEvent) Record(source string) event.Record {
	return event.Record{
		Topic: e.Topic,
		Key:   e.Key,
		Value: e.Value,
		Headers: []event.Header{
			{Key: headerSpecVersion, Value: []byte("1.0")},
			{Key: headerID, Value: []byte(e.ID)},
			{Key: headerSource, Value: []byte(source)},
			{Key: headerType, Value: []byte(e.Type)},
			{Key: headerTime, Value: []byte(e.Time.UTC().Format(time.RFC3339Nano))},
			{Key: headerContentType, Value: []byte(e.ContentType)},
		},
	}
}
