package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lagBuckets are the bucket bounds of walrelay_transaction_lag_seconds:
// fine from 1 ms to 1 s, where a tail percentile of a healthy pipeline
// lies, then coarse up to 10 minutes.
var lagBuckets = []float64{0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
	0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 120, 300, 600}

// The stages of walrelay_transaction_lag_seconds{stage}: how long after
// its commit in PostgreSQL a transaction reached each point of its way.
// Their differences say where the time went: in the server's decoding
// (sent), on the wire and in walrelay's reader (received), or in
// encoding, the sink and Kafka (acked).
const (
	stageSent     = "sent"     // the walsender sent its Begin (pgoutput's send time)
	stageReceived = "received" // walrelay's reader read and decoded its Begin
	stageAcked    = "acked"    // Kafka acknowledged its last event
)

// lagHistograms observe walrelay_transaction_lag_seconds over a Run.
// Every transaction that has a commit time is observed at sent and
// received; at acked only if it had events to publish. Times come from
// two clocks (PostgreSQL's commit and send times, walrelay's clock for the
// rest), so a skew between the hosts shifts the received and acked stages;
// a negative lag is observed as 0.
type lagHistograms struct {
	vec                   *prometheus.HistogramVec
	sent, received, acked prometheus.Observer
}

func newLagHistograms() *lagHistograms {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "walrelay_transaction_lag_seconds",
		Help: "Time from a transaction's commit in PostgreSQL until the walsender sent it (stage=sent), " +
			"walrelay received it (received) and Kafka acknowledged its last event (acked).",
		Buckets: lagBuckets}, []string{"stage"})
	return &lagHistograms{vec: vec, sent: vec.WithLabelValues(stageSent),
		received: vec.WithLabelValues(stageReceived), acked: vec.WithLabelValues(stageAcked)}
}

// begun observes the sent and received stages of a transaction committed
// at committed, whose Begin the server sent at sent and the reader
// received at received. Called by the publisher goroutine; a nil l (metrics
// off) observes nothing, and so does a zero commit or send time.
func (l *lagHistograms) begun(committed, sent, received time.Time) {
	if l == nil || committed.IsZero() {
		return
	}
	if !sent.IsZero() {
		l.sent.Observe(since(committed, sent))
	}
	if !received.IsZero() {
		l.received.Observe(since(committed, received))
	}
}

// ackedAfter observes the acked stage of a transaction Kafka acknowledged
// lag after its commit; a nil l observes nothing.
func (l *lagHistograms) ackedAfter(lag time.Duration) {
	if l != nil {
		l.acked.Observe(lag.Seconds())
	}
}

// since is the seconds from a to b, 0 if b is before a.
func since(a, b time.Time) float64 {
	return max(b.Sub(a).Seconds(), 0)
}

// lagHistograms returns what the session observes transaction lags into;
// nil (observe nothing) without metrics.
func (s *session) lagHistograms() *lagHistograms {
	if s.rs == nil || s.rs.metrics == nil {
		return nil
	}
	return s.rs.metrics.lag
}
