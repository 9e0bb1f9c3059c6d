package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/snapshot"
)

// metrics are walrelay's Prometheus metrics (config metrics.listen). They
// are read at scrape time from the session that streams (live), so the
// hot path pays nothing for them. Counters add up over the sessions of a
// Run: a restart does not reset them.
type metrics struct {
	reg  *prometheus.Registry
	live atomic.Pointer[session] // the session streaming now, nil between sessions

	mu       sync.Mutex
	past     sessionCounts // what ended sessions counted
	restarts atomic.Uint64 // sessions that failed and were restarted

	snap        atomic.Pointer[snapshot.Progress] // the latest snapshot (initial or catch-up), nil before one
	snapRunning atomic.Bool

	tables  *tableCounts   // walrelay_table_events_total
	lag     *lagHistograms // walrelay_transaction_lag_seconds
	waiting atomic.Bool    // a standby waits for the slot

	idle      idleLag                      // the lag gauges while no session streams
	heartbeat atomic.Pointer[heartbeatLag] // the Run's, once a session streamed
}

// sessionCounts are the per-session counts the metrics add up.
type sessionCounts struct{ events, records, retries, deadLettered uint64 }

// counts returns what s counted so far (s streams or just stopped).
func (s *session) counts() sessionCounts {
	c := sessionCounts{events: s.reader.pub.events.Load()}
	if s.sink != nil {
		st := s.sink.Stats()
		c.records, c.retries, c.deadLettered = uint64(st.Records), uint64(st.Retries), uint64(st.DeadLettered)
	}
	return c
}

func (a sessionCounts) plus(b sessionCounts) sessionCounts {
	return sessionCounts{a.events + b.events, a.records + b.records, a.retries + b.retries, a.deadLettered + b.deadLettered}
}

// newMetrics registers walrelay's metrics and the Go runtime's and process's.
func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, pick func(sessionCounts) uint64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "walrelay_" + name, Help: help},
			func() float64 { return float64(pick(m.total())) }))
	}
	counter("events_total", "Change events Kafka acknowledged (dead-lettered ones included, heartbeats and transaction "+
		"metadata not); an event sent again after a restart counts again.", func(c sessionCounts) uint64 { return c.events })
	counter("kafka_records_acked_total", "Records Kafka acknowledged with acks=all (dead-lettered ones included).",
		func(c sessionCounts) uint64 { return c.records })
	counter("kafka_retries_total", "Produce requests retried.", func(c sessionCounts) uint64 { return c.retries })
	counter("kafka_dead_lettered_total", "Records written to the dead-letter topic.",
		func(c sessionCounts) uint64 { return c.deadLettered })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "walrelay_restarts_total",
		Help: "Pipeline restarts from the checkpoint after a failure."}, func() float64 { return float64(m.restarts.Load()) }))
	m.registerGauges()
	m.registerSnapshotGauges()
	m.tables, m.lag = newTableCounts(), newLagHistograms()
	m.reg.MustRegister(m.tables, m.lag.vec, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrelay_standby_waiting",
		Help: "1 while this walrelay is a standby waiting for the slot another one holds (postgres.standby)."},
		func() float64 {
			if m.waiting.Load() {
				return 1
			}
			return 0
		}))
	return m
}

// standbyWaiting shows whether this walrelay waits as a standby.
func (m *metrics) standbyWaiting(on bool) {
	if m != nil {
		m.waiting.Store(on)
	}
}

// tableCounts returns what the per-table counters count into; nil (count
// nothing) without metrics.
func (s *session) tableCounts() *tableCounts {
	if s.rs == nil || s.rs.metrics == nil {
		return nil
	}
	return s.rs.metrics.tables
}

// registerSnapshotGauges registers the progress of the latest snapshot
// (the initial one or a catch-up), read at scrape time.
func (m *metrics) registerSnapshotGauges() {
	rows := func(pick func(done, total uint64) uint64) func() float64 {
		return func() float64 {
			p := m.snap.Load()
			if p == nil {
				return 0
			}
			done, total, _, _ := p.Totals()
			return float64(pick(done, total))
		}
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrelay_snapshot_running",
			Help: "1 while a snapshot (initial or catch-up) is being published."}, func() float64 {
			if m.snapRunning.Load() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrelay_snapshot_rows_done",
			Help: "Rows of the latest snapshot published so far."}, rows(func(done, _ uint64) uint64 { return done })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrelay_snapshot_rows_total",
			Help: "Rows of the latest snapshot in all (counted inside it)."}, rows(func(_, total uint64) uint64 { return total })))
}

// snapshotting shows p, a snapshot being published, in the metrics; running
// false marks its end (it stays shown until the next one).
func (m *metrics) snapshotting(p *snapshot.Progress, running bool) {
	if m != nil {
		m.snap.Store(p)
		m.snapRunning.Store(running)
	}
}

// registerGauges registers the gauges of the streaming session; they read
// 0 between sessions, and walrelay_streaming says which, but for the lag
// ones (registerLagGauges).
func (m *metrics) registerGauges() {
	gauge := func(name, help string, read func(s *session) float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrelay_" + name, Help: help}, func() float64 {
			if s := m.live.Load(); s != nil {
				return read(s)
			}
			return 0
		}))
	}
	gauge("streaming", "1 while a session streams from the slot.", func(*session) float64 { return 1 })
	gauge("incremental_snapshot_running", "1 while an incremental catch-up reads tables alongside the stream.",
		func(s *session) float64 {
			if s.inc != nil && !s.inc.finished.Load() {
				return 1
			}
			return 0
		})
	gauge("incremental_snapshot_rows", "Rows the session's incremental catch-up published as read events.",
		func(s *session) float64 {
			if s.inc == nil {
				return 0
			}
			return float64(s.inc.rows.Load())
		})
	gauge("inflight_events", "Events read and not yet acknowledged by Kafka.", func(s *session) float64 {
		ev, _, _ := s.tracker.Stats()
		return float64(ev)
	})
	gauge("inflight_bytes", "Bytes of the events in flight.", func(s *session) float64 {
		_, b, _ := s.tracker.Stats()
		return float64(b)
	})
	m.registerLagGauges()
}

// registerLagGauges registers the gauges of the lag: the streaming
// session's measurements, and between sessions (the pipeline halted or
// restarting) the Run's (idleLag, heartbeatLag), so that they keep telling
// the truth while nothing is published.
func (m *metrics) registerLagGauges() {
	gauge := func(name, help string, live func(s *session) float64, idle func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "walrelay_" + name, Help: help}, func() float64 {
			if s := m.live.Load(); s != nil {
				return live(s)
			}
			return idle()
		}))
	}
	gauge("checkpoint_lsn", "Position (LSN as a number) persisted and confirmed to PostgreSQL; between sessions the "+
		"slot's confirmed_flush_lsn if that is newer.",
		func(s *session) float64 { return float64(s.lagFrom()) },
		func() float64 { ckpt, _ := m.idle.read(); return float64(ckpt) })
	gauge("server_wal_end_lsn", "The server's current WAL position (LSN as a number): pg_current_wal_lsn(), "+
		"read at each scrape (and every 2 s while streaming, at most every 2 s between sessions), or the walsender's newer report.",
		func(s *session) float64 {
			s.reader.refreshServerWAL(serverWALScrapeWait)
			return float64(s.reader.serverWALEnd())
		},
		func() float64 { _, end := m.idle.read(); return float64(end) })
	gauge("lag_bytes", "WAL bytes between the server's WAL position and the persisted checkpoint, as `walrelay status` "+
		"measures it: the backlog walrelay has still to publish. Both are read together at each scrape (and every 2 s); "+
		"WAL the walsender reports past the checkpoint since counts too. Measured between sessions too (the pipeline "+
		"halted or restarting), from the slot and the last checkpoint.",
		func(s *session) float64 {
			s.reader.refreshServerWAL(serverWALScrapeWait)
			return float64(s.reader.lag(s.lagFrom()))
		},
		func() float64 { ckpt, end := m.idle.read(); return float64(lagBetween(end, ckpt)) })
	heartbeat := func() float64 {
		if h := m.heartbeat.Load(); h != nil {
			lag, _ := h.get()
			return lag.Seconds()
		}
		return 0
	}
	gauge("heartbeat_lag_seconds", "Emit-to-acknowledged time of the newest heartbeat Kafka acknowledged, or the time "+
		"since the oldest one not yet acknowledged was emitted (or the pipeline halted) if that is longer: it grows while "+
		"heartbeats are not delivered, through halts and restarts too (0 without heartbeats).",
		func(*session) float64 { return heartbeat() }, heartbeat)
}

// total is what every session of the Run counted, the live one included.
func (m *metrics) total() sessionCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.past
	if s := m.live.Load(); s != nil {
		t = t.plus(s.counts())
	}
	return t
}

// streaming makes s the live session. Called once it streams.
func (m *metrics) streaming(s *session) {
	if m != nil {
		m.idle.from(s)
		if s.rs != nil { // the Run's, which the publisher is not yet made to use here
			m.heartbeat.Store(&s.rs.heartbeat)
		}
		m.live.Store(s)
		m.waiting.Store(false)
	}
}

// ended adds the counts of s, which stopped streaming, to the past ones.
func (m *metrics) ended(s *session) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live.Load() == s {
		m.past = m.past.plus(s.counts())
		m.idle.ended(s)
		m.live.Store(nil)
	}
}

// restarting counts a restart of the pipeline from its checkpoint.
func (m *metrics) restarting() {
	if m != nil {
		m.restarts.Add(1)
	}
}

// serveMetrics serves GET /metrics on listen until ctx ends. It returns
// when the listener is bound, so a taken port fails walrelay at start.
func serveMetrics(ctx context.Context, listen string, m *metrics, log zerolog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fatal(fmt.Errorf("metrics.listen %s: %w (choose a free host:port, or leave metrics.listen empty)", listen, err))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("metrics server stopped")
		}
	}()
	log.Info().Str("listen", ln.Addr().String()).Msg("metrics served at /metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		m.idle.close()
	}, nil
}
