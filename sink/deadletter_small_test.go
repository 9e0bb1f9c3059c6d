package sink

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestDeadLetterTooLargeForDeadLetterTopic: a record too large for its topic
// and for the dead-letter topic (both max.message.bytes 2000). In its place
// the dead-letter topic gets a small record with the original key and event
// ID, the sizes, the errors and the source position, marked as having its
// value omitted in the value and the headers; every record is acked in
// order, so the pipeline goes on instead of halting.
func TestDeadLetterTooLargeForDeadLetterTopic(t *testing.T) {
	c := newFake(t)
	brokers := c.ListenAddrs()
	maxBytes := "2000"
	createTopic(t, brokers, "big", 1, map[string]*string{"max.message.bytes": &maxBytes})
	createTopic(t, brokers, "small.dlq", 1, map[string]*string{"max.message.bytes": &maxBytes})
	cfg := fastConfig(brokers)
	cfg.OnFailure, cfg.DeadLetterTopic = OnFailureDeadLetter, "small.dlq"
	s := startSink(t, cfg)

	a := sendBigInTheMiddle(t, s, "big")
	a.wait(t, 10*time.Second)
	select {
	case err := <-s.Err():
		t.Fatalf("sink halted: %v", err)
	default:
	}
	counts, order := a.snapshot()
	for i := range 11 {
		if counts[i] != 1 || order[i] != i {
			t.Fatalf("acks %v (counts %v), want each of 0..10 once, in order", order, counts)
		}
	}
	dlq := consume(t, brokers, "small.dlq", 1, 10*time.Second)
	if len(dlq) != 1 {
		t.Fatalf("dead-letter topic holds %d records, want 1", len(dlq))
	}
	r := dlq[0]
	if string(r.Key) != "key-1" || header(r, "ce_id") != "id-00000005" {
		t.Errorf("dead-letter record: key %q, headers %v; want the original key and ce_id", r.Key, r.Headers)
	}
	if header(r, HeaderValue) != ValueOmitted || header(r, HeaderOriginalValueBytes) != "5000" ||
		header(r, "content-type") != "application/json" || header(r, HeaderOriginalTopic) != "big" {
		t.Errorf("dead-letter headers %v: want walrelay.value omitted, 5000 value bytes, application/json", r.Headers)
	}
	if e := header(r, HeaderError); !strings.Contains(e, "Message Size Too Large") {
		t.Errorf("%s header %q does not name MESSAGE_TOO_LARGE", HeaderError, e)
	}
	var sum DeadLetterSummary
	if err := json.Unmarshal(r.Value, &sum); err != nil {
		t.Fatalf("dead-letter value %q: %v", r.Value, err)
	}
	if sum.OriginalTopic != "big" || string(sum.Key) != "key-1" || sum.EventID != "id-00000005" ||
		sum.ValueBytes != 5000 || sum.Value != ValueOmitted || !strings.Contains(sum.Error, "Message Size Too Large") ||
		!strings.Contains(sum.DeadLetterError, "Message Size Too Large") {
		t.Errorf("dead-letter value %s", r.Value)
	}
	if st := s.Stats(); st.DeadLettered != 1 || st.Pending != 0 {
		t.Errorf("stats %+v, want 1 dead-lettered, none pending", st)
	}
}

// TestSourcePosition: an event ID gives the commit LSN and ordinal it was
// made from; another form gives nothing.
func TestSourcePosition(t *testing.T) {
	lsn, ord := sourcePosition("00000000016B3748-00000005")
	if lsn != "0/16B3748" || ord == nil || *ord != 5 {
		t.Errorf("sourcePosition = %q, %v; want 0/16B3748, 5", lsn, ord)
	}
	if lsn, ord := sourcePosition("00000000016B3748-00000005-C"); lsn != "0/16B3748" || ord == nil || *ord != 5 {
		t.Errorf("sourcePosition of a -C ID = %q, %v", lsn, ord)
	}
	if lsn, ord := sourcePosition("id-00000005"); lsn != "" || ord != nil {
		t.Errorf("sourcePosition(id-00000005) = %q, %v; want none", lsn, ord)
	}
}
