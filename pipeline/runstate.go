package pipeline

import (
	"context"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/sink"
)

// runState is what outlives one session within a Run: sessions come and go
// (a halted pipeline restarts from its checkpoint), these stay. Run creates it
// and passes it to each session; only the session running at the time uses it.
type runState struct {
	// registry is the schema registry side of format avro. The embedded
	// registry must keep serving consumers, and keep accepting an operator's
	// PUT /config/{subject}, between sessions.
	registry *registryHandle
	// snapshotTaken says a snapshot completed in this Run, so that with
	// snapshot.mode always a restarted session resumes from the checkpoint
	// instead of reading every table again.
	snapshotTaken bool
	// streamed says a session of this Run streamed: only then does a
	// failure restart the pipeline instead of ending the process.
	streamed bool
	// rules are the filter rules last in force: a restarted session keeps them
	// when the rules file no longer loads (an unfinished edit must not turn a
	// restart into an outage).
	rules *filter.Rules
	// metrics are served when metrics.listen is set; nil otherwise.
	metrics *metrics
	// producer is the idempotent producer of the latest session's sink: the
	// next session continues it with the next epoch, which fences requests
	// the previous sink left in flight (sink.Config.ResumeProducer).
	producer *sink.ProducerID
	// walsender serves the latest session's replication connection; the
	// next session ends it if a lost connection left it holding the slot.
	walsender walsenderID
	// events are the change events the ended sessions of this Run published:
	// the progress log and status.json count the whole process, as
	// walrelay_events_total does.
	events uint64
	// heartbeat is the end-to-end lag the sessions' heartbeats measure; it
	// outlives a session, so that it grows while the pipeline is down.
	heartbeat heartbeatLag
	// followed are the tables of postgres.tables (no rules file) the
	// sessions found, by OID -> listed name: a later session finds a table
	// renamed or moved since by its OID (capture_follow.go).
	followed map[uint32]string
	// lineage is the column lineage kept without a rules file, continued
	// by each session (lineage_track.go); with one, rules carry it.
	lineage *filter.Rules
	// halts are the pipeline's halts in this Run, for the status reports
	// (status_restart.go).
	halts halts
	// down writes the progress line while no session streams
	// (progress_halt.go).
	down downProgress
	// known is the newest checkpoint a session of this Run loaded or
	// saved (knownOK: there is one): a later session that finds none
	// stored writes it back (checkpoint_guard.go).
	known   checkpoint.Position
	knownOK bool
	// lock is the data_dir lock Run holds (nil: no data_dir); a session
	// start checks it too (relockDataDir).
	lock *dataDirLock
}

// close stops the embedded registry, if one runs, and the progress line of a
// pipeline that is down. Run calls it when it returns.
func (rs *runState) close() {
	rs.down.up()
	if rs.registry == nil || rs.registry.server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = rs.registry.server.Close(ctx)
	rs.registry = nil
}
