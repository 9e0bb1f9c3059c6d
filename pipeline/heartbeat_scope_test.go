package pipeline

import (
	"testing"
	"time"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
)

// heartbeatChange is a heartbeat message with content as decoded.
func heartbeatChange(content string) *event.Change {
	return &event.Change{Op: event.OpMessage, Message: &event.LogicalMessage{Prefix: HeartbeatPrefix, Content: []byte(content)}}
}

// TestHeartbeatScope: a walrelay measures and publishes only the heartbeats
// it emitted, recognised by its slot in their content. Another walrelay's
// heartbeats on the same database, and the bare timestamps of older
// releases, are neither measured nor published: before, they were
// published to this walrelay's heartbeat.topic and fed its end-to-end lag,
// even with heartbeats off.
func TestHeartbeatScope(t *testing.T) {
	t.Parallel()
	emitted := time.Now().Add(-1500 * time.Millisecond)
	for _, c := range []struct {
		name, topic, content string
		publish, measured    bool
	}{
		{"own, with a topic", "hb", heartbeatContent("mine", emitted), true, true},
		{"own, without a topic", "", heartbeatContent("mine", emitted), false, true},
		{"another walrelay's", "hb", heartbeatContent("theirs", emitted), false, false},
		{"an older release's bare timestamp", "hb", emitted.UTC().Format(time.RFC3339Nano), false, false},
		{"no slot", "hb", `{"time":"` + emitted.UTC().Format(time.RFC3339Nano) + `"}`, false, false},
		{"no time", "hb", `{"slot":"mine"}`, false, false},
		{"garbage", "hb", "{", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{}
			cfg.Postgres.Slot, cfg.Heartbeat.Topic = "mine", c.topic
			p := &publisher{s: &session{cfg: cfg}, heartbeat: new(heartbeatLag)}
			ch := heartbeatChange(c.content)
			if !isHeartbeat(ch) {
				t.Fatal("not recognised as a heartbeat (it would be routed as a message)")
			}
			if got := p.measureHeartbeat(ch); got != c.publish {
				t.Errorf("publish %v, want %v", got, c.publish)
			}
			lag, at := p.heartbeat.get()
			switch {
			case c.measured && (!at.Equal(emitted) || lag < 1500*time.Millisecond || lag > time.Minute):
				t.Errorf("measured lag %s of the heartbeat at %s, want about 1.5 s of the one at %s", lag, at, emitted)
			case !c.measured && !at.IsZero():
				t.Errorf("measured lag %s of a heartbeat that is not this walrelay's", lag)
			}
		})
	}
}

// TestHeartbeatContent: the content names the slot and the time with
// nanoseconds, in UTC, and parses back.
func TestHeartbeatContent(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	content := heartbeatContent("walrelay_a", at)
	if want := `{"slot":"walrelay_a","time":"2026-01-02T02:04:05.123456789Z"}`; content != want {
		t.Errorf("content %s, want %s", content, want)
	}
	hb, ok := parseHeartbeat([]byte(content))
	if !ok || hb.Slot != "walrelay_a" || !hb.Time.Equal(at) {
		t.Errorf("parsed %+v %v, want slot walrelay_a at %s", hb, ok, at)
	}
}

// FuzzParseHeartbeat: any content parses without a panic, and what parses
// has a slot and a time and survives a round trip.
func FuzzParseHeartbeat(f *testing.F) {
	f.Add([]byte(heartbeatContent("s", time.Unix(1, 2))))
	f.Add([]byte("2026-01-02T03:04:05.123456789Z"))
	f.Add([]byte(`{"slot":"","time":"x"}`))
	f.Add([]byte(`{"slot":"a","time":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, content []byte) {
		hb, ok := parseHeartbeat(content)
		if !ok {
			return
		}
		if hb.Slot == "" || hb.Time.IsZero() {
			t.Fatalf("parsed %+v from %q", hb, content)
		}
		again, ok := parseHeartbeat([]byte(heartbeatContent(hb.Slot, hb.Time)))
		if !ok || again.Slot != hb.Slot || !again.Time.Equal(hb.Time) {
			t.Fatalf("round trip of %+v gave %+v %v", hb, again, ok)
		}
	})
}
