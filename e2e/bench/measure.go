package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunResult is one consumer's pass over the backlog.
type RunResult struct {
	Consumer string `json:"consumer"`
	Slot     string `json:"slot"`
	Rows     int    `json:"rows"`
	// StartupS is process start -> the slot turns active (connection,
	// JVM start, set-up); not part of the rate.
	StartupS float64 `json:"startup_s"`
	// StreamS is slot active -> done (the rate's denominator). Done is the
	// process exit for pg_recvlogical, the stored checkpoint reaching the
	// backlog's end LSN for walrelay, all records in Kafka for Debezium.
	StreamS    float64 `json:"stream_s"`
	EventsPerS float64 `json:"events_per_s"`
	// KafkaS is slot active -> every backlog record is in Kafka (end offsets).
	KafkaS       float64 `json:"kafka_complete_s,omitempty"`
	TopicRecords int64   `json:"topic_records,omitempty"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	CPUSeconds   float64 `json:"cpu_s"`
	// WalsenderCPUS is the CPU the server's walsender spent for this slot
	// (decoding and sending), when the server runs on this machine.
	WalsenderCPUS float64 `json:"walsender_cpu_s,omitempty"`
	// RunqWaitS and WalsenderRunqWaitS are the time the consumer's threads
	// and the walsender were runnable but waited for a CPU (schedstat): CPU
	// starvation by everything else on the machine.
	RunqWaitS          float64 `json:"runqueue_wait_s,omitempty"`
	WalsenderRunqWaitS float64 `json:"walsender_runqueue_wait_s,omitempty"`
	// BrokerCPUS is the CPU the Kafka broker spent during the pass, when the
	// bench started it (.ci/kafka.sh).
	BrokerCPUS float64 `json:"broker_cpu_s,omitempty"`
	Partial    bool    `json:"partial,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// watchSpec says how to time one consumer's pass.
type watchSpec struct {
	name       string
	slot       string
	rows       int
	p          *proc
	exitIsDone bool                 // pg_recvlogical: a clean exit is the end
	done       func() (bool, error) // polled; nil when exitIsDone
	topics     []string             // counted in Kafka when set
	kafkaDone  bool                 // done = all rows in Kafka (Debezium)
	timeout    time.Duration        // from process start
	localPG    bool                 // walsender CPU is readable
	adm        *kafkaAdmin          // for topics
	db         *pgx.Conn            // polls the slot
	brokerPID  int                  // Kafka broker process on this machine, 0 = unknown
	onDone     func(r *RunResult)   // reads the live process's stats
}

// watch polls the slot, the process, the done condition and (every 100 ms)
// the topics until the pass ends, fails or times out. It runs on the
// caller's goroutine and leaves the process running unless it exited.
func watch(ctx context.Context, w watchSpec) RunResult {
	st := &watchState{r: RunResult{Consumer: w.name, Slot: w.slot, Rows: w.rows}}
	st.brokerCPU0, st.brokerErr = cpuSeconds(w.brokerPID)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := w.p.started.Add(w.timeout)
	for i := 0; ; i++ {
		now := time.Now()
		st.sample(ctx, w, i, now)
		finished, err := w.finished(st.kafkaAt)
		if err != nil {
			st.r.Error = err.Error()
			return st.r
		}
		if finished {
			if len(w.topics) > 0 && st.kafkaAt.IsZero() {
				if n, err := w.adm.countRecords(ctx, w.topics...); err == nil && n >= int64(w.rows) {
					st.r.TopicRecords, st.kafkaAt = n, time.Now()
				}
			}
			end := now
			if w.exitIsDone {
				end = w.p.exitAt
			}
			return st.finish(w, end)
		}
		if now.After(deadline) || ctx.Err() != nil {
			st.r.Partial = true
			st.r.Error = fmt.Sprintf("stopped after %s: not done (%d of %d records in Kafka)",
				now.Sub(w.p.started).Round(time.Second), st.r.TopicRecords, w.rows)
			return st.finish(w, now)
		}
		select {
		case <-tick.C:
		case <-w.p.exited:
		case <-ctx.Done():
		}
	}
}

// watchState is what watch has seen so far.
type watchState struct {
	r          RunResult
	active     time.Time // the slot was first seen active
	kafkaAt    time.Time // every row was first seen in Kafka
	wsPID      int       // the walsender serving the slot
	lastCount  time.Time
	brokerCPU0 float64
	brokerErr  error
}

// sample reads the slot, the walsender's and the consumer's CPU figures and,
// every 100 ms, the topics' record count.
func (st *watchState) sample(ctx context.Context, w watchSpec, i int, now time.Time) {
	if slot, err := readSlot(ctx, w.db, w.slot); err == nil && slot.active && st.active.IsZero() {
		st.active, st.wsPID = now, slot.pid
	}
	if st.wsPID > 0 && w.localPG && isPostgresProcess(st.wsPID) {
		if cpu, err := cpuSeconds(st.wsPID); err == nil {
			st.r.WalsenderCPUS = cpu
		}
		if wait, err := runqueueWait(st.wsPID); err == nil {
			st.r.WalsenderRunqWaitS = wait
		}
	}
	if i%5 == 0 || w.exitIsDone {
		if wait, err := runqueueWait(w.p.pid()); err == nil {
			st.r.RunqWaitS = wait
		}
	}
	if len(w.topics) == 0 || (!st.kafkaAt.IsZero() && !w.kafkaDone) || now.Sub(st.lastCount) < 100*time.Millisecond {
		return
	}
	st.lastCount = now
	if n, err := w.adm.countRecords(ctx, w.topics...); err == nil {
		st.r.TopicRecords = n
		if n >= int64(w.rows) && st.kafkaAt.IsZero() {
			st.kafkaAt = now
		}
	}
}

// finish computes the durations and rates of a pass that ended at end and
// reads the live process's and the broker's figures.
func (st *watchState) finish(w watchSpec, end time.Time) RunResult {
	r := &st.r
	r.fill(w.p.started, st.active, end, st.kafkaAt)
	if r.Partial && r.StreamS > 0 && r.TopicRecords > 0 {
		r.EventsPerS = float64(r.TopicRecords) / r.StreamS
	}
	if w.onDone != nil {
		w.onDone(r)
	}
	r.setBrokerCPU(w.brokerPID, st.brokerCPU0, st.brokerErr)
	return *r
}

// finished evaluates the spec's done condition.
func (w watchSpec) finished(kafkaAt time.Time) (bool, error) {
	if w.p.done() {
		if w.exitIsDone && w.p.err == nil {
			return true, nil
		}
		return false, w.p.failure()
	}
	if w.kafkaDone {
		return !kafkaAt.IsZero(), nil
	}
	if w.done == nil {
		return false, nil
	}
	return w.done()
}

// fill computes the durations and the rate. A slot never seen active
// before the pass ended (the pass was shorter than a poll: on a loaded
// machine a 3,000-row smoke pass was first seen active by the poll that
// found it done, a rate of 0) counts from the process start.
func (r *RunResult) fill(started, active, end, kafkaAt time.Time) {
	if !active.Before(end) {
		active = started
	}
	r.StartupS = active.Sub(started).Seconds()
	r.StreamS = end.Sub(active).Seconds()
	if r.StreamS > 0 {
		r.EventsPerS = float64(r.Rows) / r.StreamS
	}
	if !kafkaAt.IsZero() {
		r.KafkaS = kafkaAt.Sub(active).Seconds()
	}
}

// setBrokerCPU records the broker's CPU since cpu0 (read at the pass's start).
func (r *RunResult) setBrokerCPU(pid int, cpu0 float64, err0 error) {
	if pid <= 0 || err0 != nil {
		return
	}
	if cpu, err := cpuSeconds(pid); err == nil {
		r.BrokerCPUS = cpu - cpu0
	}
}
