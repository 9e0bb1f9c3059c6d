package schema

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/walrelay/walrelay/event"
)

// heartbeatChange is a non-transactional message routed to topic ("" for
// the default <prefix>.message).
func heartbeatChange(topic string) *event.Change {
	return &event.Change{Op: event.OpMessage, Tx: &event.Tx{CommitLSN: 0x200}, Ordinal: 1, LSN: 0x200, Topic: topic,
		Message: &event.LogicalMessage{Prefix: "walrelay_heartbeat", Content: []byte("2026-01-01T00:00:00Z")}}
}

// TestAvroMessageTopicSubjects: a message routed to a topic other than
// <prefix>.message (a heartbeat on heartbeat.topic) has its schemas
// registered under that topic's TopicNameStrategy subjects, and its key
// and value carry the IDs those subjects hold; each subject is registered
// once however many goroutines encode; the default topic keeps its own.
func TestAvroMessageTopicSubjects(t *testing.T) {
	t.Parallel()
	ta, reg := newCountingAvro(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := ta.enc.Encode(heartbeatChange("app.heartbeat")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	recs := mustEncode(t, ta.enc, heartbeatChange("app.heartbeat"))
	if len(recs) != 1 || recs[0].Topic != "app.heartbeat" {
		t.Fatalf("records %+v, want one on app.heartbeat", recs)
	}
	want := []string{"app.heartbeat-key", "app.heartbeat-value"}
	if got := ta.store.Subjects(); !reflect.DeepEqual(got, want) {
		t.Errorf("subjects %v, want %v", got, want)
	}
	keyID, _ := ta.decodeWire(t, recs[0].Key)
	valueID, v := ta.decodeWire(t, recs[0].Value)
	for _, c := range []struct {
		subject string
		id      uint32
	}{{"app.heartbeat-key", keyID}, {"app.heartbeat-value", valueID}} {
		if n := reg.calls(c.subject); n != 1 {
			t.Errorf("subject %s: %d registry calls, want 1", c.subject, n)
		}
		reg.mu.Lock()
		id := reg.ids[c.subject]
		reg.mu.Unlock()
		if uint32(id) != c.id {
			t.Errorf("record carries schema %d, subject %s holds %d", c.id, c.subject, id)
		}
	}
	if v["op"] != "m" {
		t.Errorf("value %#v", v)
	}

	recs = mustEncode(t, ta.enc, heartbeatChange(""))
	if recs[0].Topic != "app.message" {
		t.Fatalf("a message without a topic went to %s, want app.message", recs[0].Topic)
	}
	want = append(want, "app.message-key", "app.message-value")
	if got := ta.store.Subjects(); !reflect.DeepEqual(got, want) {
		t.Errorf("subjects %v, want %v", got, want)
	}
}

// TestAvroMessageRegistryError: a registry failure for a message names the
// topic's subject, wraps the cause and is not cached.
func TestAvroMessageRegistryError(t *testing.T) {
	t.Parallel()
	ta, reg := newCountingAvro(t)
	boom := errors.New("registry unavailable")
	reg.mu.Lock()
	reg.fail = boom
	reg.mu.Unlock()
	recs, err := ta.enc.Encode(heartbeatChange("app.heartbeat"))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the registry's", err)
	}
	if !strings.Contains(err.Error(), `subject "app.heartbeat-key"`) || recs != nil {
		t.Errorf("error %q does not name the subject, or records came back: %+v", err, recs)
	}
	reg.mu.Lock()
	reg.fail = nil
	reg.mu.Unlock()
	mustEncode(t, ta.enc, heartbeatChange("app.heartbeat"))
	if n := reg.calls("app.heartbeat-key"); n != 2 {
		t.Errorf("%d key registrations, want 2 (the failure is not cached)", n)
	}
}
