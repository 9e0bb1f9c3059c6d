package pipeline

import (
	"testing"
)

// fakeSession is a session as far as the counters read it: events handed
// to the sink, no sink.
func fakeSession(events uint64) *session {
	s := &session{}
	s.reader.pub = &publisher{}
	s.reader.pub.events.Store(events)
	return s
}

// TestMetricsCountersAddUpOverSessions: a restarted session does not reset
// the counters (Prometheus would read a reset), a session that never
// streamed adds nothing, and each restart Run makes is counted.
func TestMetricsCountersAddUpOverSessions(t *testing.T) {
	m := newMetrics()
	first := fakeSession(5)
	m.streaming(first)
	first.reader.pub.events.Store(7)
	if got := m.total().events; got != 7 {
		t.Fatalf("live session: %d events, want 7", got)
	}
	m.ended(first)
	m.restarting()
	m.ended(fakeSession(100)) // failed before it streamed
	m.restarting()
	second := fakeSession(3)
	m.streaming(second)
	if got := m.total().events; got != 10 {
		t.Errorf("after a restart: %d events, want 7 + 3", got)
	}
	m.ended(second)
	if got, restarts := m.total().events, m.restarts.Load(); got != 10 || restarts != 2 {
		t.Errorf("after the stop: %d events and %d restarts, want 10 and 2", got, restarts)
	}
	if m.live.Load() != nil {
		t.Error("a session is still live after it ended")
	}
	var nilMetrics *metrics // metrics.listen unset
	nilMetrics.streaming(second)
	nilMetrics.ended(second)
	nilMetrics.restarting()
}
