package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/decoder"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/tlsfiles"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/sink"
)

// session is one connected attempt: set-up, streaming, shutdown.
type session struct {
	opts Options
	cfg  *config.Config
	log  zerolog.Logger
	rs   *runState // state that outlives this session (owned by Run)

	filter  *filterState // nil without a rules file
	capture *captureSet  // postgres.tables without a rules file (capture_set.go); nil: capture all
	tables  []string     // postgres.tables under their current names (capture_follow.go); nil: as configured
	// keptLineage is the column lineage without a rules file (lineage_track.go).
	keptLineage *capturedLineage

	store     checkpoint.Store
	db        *pgx.Conn
	repl      *pgconn.PgConn
	stream    *replication.Stream
	sink      *sink.Sink
	enc       schema.Encoder
	dec       *decoder.Decoder
	tracker   *checkpoint.Tracker
	committer *checkpoint.Committer

	stored  checkpoint.Position // as loaded, and as catch-ups update it (catchup.go)
	found   bool                // a checkpoint was stored
	catchup *checkpoint.Catchup // the catch-up whose boundary the stream has not passed (catchup.go)
	// catchupKeys are the record keys a blocking catch-up's snapshot
	// published, and catchupDeletes counts the left-out deletes published
	// for keys it did not (catchup_keys.go); both go with catchup.
	// catchupBuild collects the keys while the snapshot is published.
	// catchupTrunc tracks the truncates before the boundary it published
	// (catchup_truncate.go).
	catchupKeys    *catchupKeys
	catchupDeletes int
	catchupBuild   *catchupKeys
	catchupTrunc   truncatedCatchup
	inc            *incremental // the incremental catch-up running with the stream, if any (incremental.go)
	ackLag         ackLag       // commit-to-Kafka time of the newest acknowledged transaction (acklag.go)
	// live is set while the session streams with its committer running;
	// catchupRestart asks the reader to end the session (catchup.go).
	live           atomic.Bool
	catchupRestart chan struct{}

	start      event.LSN
	retain     retainer
	snapStatus *SnapshotStatus // set once a snapshot ran in this session
	streamed   bool
	streamedAt time.Time // when streaming began (streamed)
	sinkClosed bool
	reader     reader
	stop       *stopReport // how streaming stopped (shutdown.go); nil if it did not stream
}

func newSession(opts Options, rs *runState) *session {
	return &session{opts: opts, cfg: opts.Config, log: opts.Log, rs: rs, catchupRestart: make(chan struct{}, 1)}
}

// run performs one attempt; it returns nil after a graceful stop (ctx done).
func (s *session) run(ctx context.Context) error {
	defer s.close()
	if err := s.setup(ctx); err != nil {
		if errors.Is(err, errSnapshotOnly) {
			return nil
		}
		return err
	}
	cctx, stopCommitter := context.WithCancel(context.Background())
	// The reader receives the committer's error (and restarts the session);
	// run waits on committerStopped, which the reader cannot consume.
	committerErr := make(chan error, 1)
	committerStopped := make(chan struct{})
	go func() {
		defer close(committerStopped)
		committerErr <- s.committer.Run(cctx)
	}()
	// Made before the session is live: metrics scrapes and status reports
	// read its counters from then on (reader.loop starts it).
	s.reader.pub = newPublisher(s)
	hctx, stopHeartbeats := context.WithCancel(ctx)
	heartbeatsDone := make(chan struct{})
	go func() { defer close(heartbeatsDone); s.runHeartbeats(hctx) }()

	s.streamed, s.streamedAt = true, time.Now()
	s.live.Store(true)
	s.rs.metrics.streaming(s)
	s.log.Info().Str("slot", s.cfg.Postgres.Slot).Str("publication", s.cfg.Postgres.Publication).
		Stringer("start_lsn", s.start).Msg("streaming")
	s.streamingStatus()
	if s.opts.OnStreaming != nil {
		s.opts.OnStreaming()
	}
	stopIncremental := s.runIncremental(ctx)
	readErr := s.reader.loop(ctx, committerErr)
	stopIncremental()
	s.live.Store(false)
	stopHeartbeats()
	<-heartbeatsDone
	stopCommitter()
	<-committerStopped
	return s.shutdown(ctx, readErr)
}

// setup connects, checks prerequisites, positions the slot and builds the stages.
func (s *session) setup(ctx context.Context) error {
	cfg := s.cfg
	var err error
	// Store errors are not fatal: a postgres store may be down with its
	// server. Before the first session streams, Run returns every error.
	if s.store, err = OpenStore(ctx, cfg, true); err != nil {
		return err
	}
	if s.db, err = replication.ConnectSQL(ctx, cfg.Postgres.DSN); err != nil {
		return err
	}
	if err := replication.CheckServer(ctx, s.db); err != nil {
		return fatalUnlessConnection(err)
	}
	// A standby checks the slot before it loads the checkpoint: a walrelay
	// that stops saves its last checkpoint before it releases the slot, so
	// the standby that then finds it free loads that one.
	if err := s.checkStandby(ctx); err != nil {
		return err
	}
	if s.stored, s.found, err = s.store.Load(ctx); err != nil {
		return err
	}
	if err := s.relockDataDir(); err != nil {
		return err
	}
	if err := s.restoreVanished(ctx); err != nil {
		return err
	}
	pos, found := s.stored, s.found
	if err := s.preparePublication(ctx); err != nil {
		return fatalUnlessConnection(err)
	}
	if s.repl, err = replication.ConnectReplication(ctx, cfg.Postgres.DSN); err != nil {
		return err
	}
	if f, ok := s.store.(checkpoint.SlotFence); ok {
		f.SetSlotHolder(s.repl.PID()) // its saves go through while this connection holds the slot
	}
	sys, err := replication.IdentifySystem(ctx, s.repl)
	if err != nil {
		return err
	}
	if err := s.verifyStored(ctx, sys.ID, sys.Database); err != nil {
		return err
	}
	// Kafka before the slot: a cluster walrelay cannot write to must not
	// leave behind a new slot that holds WAL until someone notices.
	if err := s.startSink(ctx); err != nil {
		return err
	}
	var start position // snapshot.mode initial_only uses no slot
	if cfg.Snapshot.Mode != config.SnapshotInitialOnly {
		prev := s.rs.walsender
		s.rs.walsender = ownWalsender(ctx, s.db, s.repl)
		if start, err = startPosition(ctx, s.db, s.repl, s.opts, pos, found, s.rs.snapshotTaken, prev, s.log,
			s.slotWatch()); err != nil {
			return err
		}
	}
	s.start = start.start
	s.retain = retainer{window: cfg.Checkpoint.Retain, floor: start.slot}
	if err := s.buildStages(sys); err != nil {
		return err
	}
	s.prepareTopics(ctx) // topics_prepare.go
	if err := s.runSnapshot(ctx, start, found); err != nil {
		return s.dropSlotAfterDenied(ctx, start, err) // snapshot_denied.go
	}
	if err := s.runCatchup(ctx, start.snap); err != nil {
		return err
	}
	return s.startStream(ctx)
}

func (s *session) buildStages(sys replication.System) error {
	cfg := s.cfg
	if s.filter != nil {
		s.filter.source = event.CloudEventsSource(sys.ID, sys.Database)
	}
	var err error
	if s.enc, err = s.newEncoder(sys); err != nil {
		return err
	}
	catalog := decoder.NewCatalog(s.db)
	s.dec = decoder.New(decoder.Options{Types: catalog, Keys: catalog, Log: s.log})
	s.tracker = checkpoint.NewTracker(cfg.Limits.MaxInflightEvents, cfg.Limits.MaxInflightBytes)
	s.tracker.SetWatermark(s.start)
	s.tracker.OnAcked(s.acked)
	s.committer = checkpoint.NewCommitter(s.tracker, s.store, cfg.Postgres.Slot, cfg.Checkpoint.Interval, s.log)
	return nil
}

func (s *session) startStream(ctx context.Context) error {
	version, err := replication.ServerVersion(ctx, s.db)
	if err != nil {
		return err
	}
	stream, err := replication.Start(ctx, s.repl, replication.StartOptions{
		Slot: s.cfg.Postgres.Slot, Publication: s.cfg.Postgres.Publication,
		Start: s.start, Messages: version >= 140000,
	})
	if err != nil {
		return err
	}
	s.stream = stream
	s.reader = reader{s: s, statusEvery: s.cfg.Postgres.StatusInterval}
	return nil
}

// close releases whatever setup opened.
func (s *session) close() {
	s.closeFilter()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if s.sink != nil && !s.sinkClosed {
		_ = s.sink.Close(ctx)
	}
	if s.repl != nil {
		_ = s.repl.Close(ctx)
	}
	if s.db != nil {
		_ = s.db.Close(ctx)
	}
	if s.store != nil {
		_ = s.store.Close()
	}
}

// excludedTables are walrelay's own tables, never captured.
func excludedTables(cfg *config.Config) map[string]bool {
	m := map[string]bool{}
	if cfg.Checkpoint.Store == "postgres" {
		m[checkpoint.TableName] = true
	}
	return m
}

// startSink connects the sink. A TLS file that cannot be used, rejected
// credentials and TLS handshake failures are fatal: a restart cannot fix them.
func (s *session) startSink(ctx context.Context) error {
	sc, err := SinkConfig(s.cfg)
	if err != nil {
		return fatal(err)
	}
	sc.ResumeProducer = s.rs.producer
	s.sink, err = sink.New(ctx, sc, s.log.With().Str("stage", "sink").Logger())
	var sec *sink.SecurityError
	var old *sink.BrokerVersionError // a broker before Kafka 0.11: a restart cannot fix it
	if errors.As(err, &sec) || errors.As(err, &old) {
		return fatal(err)
	}
	if err == nil {
		s.rs.producer = nil
		if id, ok := s.sink.Producer(); ok {
			s.rs.producer = &id
		}
	}
	return err
}

// SinkConfig maps the kafka section of the config onto the sink's options.
// With kafka.tls.enabled it reads the TLS files now (internal/tlsfiles); a
// file that cannot be used is an error naming its key, e.g.
// "kafka.tls.ca_file /etc/ca.pem: no such file or directory". Called by the
// session and by `walrelay check`.
func SinkConfig(cfg *config.Config) (sink.Config, error) {
	k := cfg.Kafka
	sc := sink.Config{
		Brokers:                k.Brokers,
		ClientID:               "walrelay",
		TopicPartitions:        k.TopicPartitions,
		TopicReplicationFactor: k.TopicReplicationFactor,
		TopicConfig:            k.TopicConfig,
		BatchMaxRecords:        k.BatchMaxRecords,
		BatchMaxBytes:          k.BatchMaxBytes,
		Linger:                 k.SinkLinger(), // 0s: no lingering
		Compression:            k.Compression,
		MaxAttempts:            k.MaxAttempts,
		BackoffMin:             k.BackoffMin,
		BackoffMax:             k.BackoffMax,
		OnFailure:              k.OnFailure,
		DeadLetterTopic:        k.DeadLetterTopic,
		MetadataMaxAge:         k.MetadataMaxAge,
		MaxInFlightRequests:    k.MaxInFlightRequests,
		SASL:                   sink.SASL{Mechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: k.SASL.Password},
	}
	if k.Idempotence != nil {
		sc.Idempotence = map[bool]sink.Idempotence{true: sink.IdempotenceOn, false: sink.IdempotenceOff}[*k.Idempotence]
	}
	if k.TLS.Enabled {
		t, err := tlsfiles.Config(k.TLS.CAFile, k.TLS.CertFile, k.TLS.KeyFile, k.TLS.InsecureSkipVerify)
		var fe *tlsfiles.FileError
		switch {
		case errors.As(err, &fe):
			return sink.Config{}, fmt.Errorf("kafka.tls.%w", err) // "kafka.tls.ca_file PATH: reason"
		case err != nil:
			return sink.Config{}, fmt.Errorf("kafka.tls: %w", err)
		}
		sc.TLS = t
	}
	return sc, nil
}

// healthy reports whether this session, which has ended, counts as one that
// worked, so that the next failure backs off from the start again: it moved
// the checkpoint past where it began, or it streamed for at least long (an
// idle database without heartbeats moves nothing). A session that never
// streamed is not healthy. Called by Run after run returns.
func (s *session) healthy(long time.Duration) bool {
	if !s.streamed {
		return false
	}
	if s.committer != nil && s.committer.Persisted() > s.start {
		return true
	}
	return time.Since(s.streamedAt) >= long
}
