package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/event"
)

// Sink publishes event.Records to Kafka with acks=all, in Send order per
// partition, and acks each record once the broker has it. See the package doc.
type Sink struct {
	cfg         Config
	log         zerolog.Logger
	cluster     *cluster
	backoff     backoff
	compression kafka.Compression
	producer    producer // set by New; noProducer without idempotence
	counts      partitionCounts
	stats       counters

	// ctx bounds the writers: cancelled by a halt, and by Close when its
	// context ends before the queues drained.
	ctx    context.Context
	cancel context.CancelFunc
	// closing is cancelled when Close starts; it ends Sends waiting for room.
	closing     context.Context
	stopSending context.CancelFunc

	topics  map[string]*topicState // owned by the Send goroutine
	touched []*writer              // writers sent to since the last SendNow; owned by the Send goroutine
	// refreshDone is closed when the refresher goroutine (refresh.go) has
	// returned; it stops when the sink halts or Close starts.
	refreshDone chan struct{}

	mu        sync.RWMutex
	closed    bool
	sending   sync.WaitGroup // Sends in progress
	all       []*writer      // every writer started, for Close
	writers   sync.WaitGroup // running writer goroutines
	closeOnce sync.Once

	haltOnce sync.Once
	haltErr  error         // written before halted is closed
	halted   chan struct{} // closed by halt
	errCh    chan error
}

// Stats are the sink's counters since New.
type Stats struct {
	Records      int64 // records acknowledged by Kafka (dead-lettered ones included)
	Batches      int64 // produce requests acknowledged
	Retries      int64 // retried requests
	DeadLettered int64 // records written to the dead-letter topic
	Pending      int64 // records accepted by Send and not yet acked
}

type counters struct {
	records, batches, retries, deadLettered, pending atomic.Int64
}

// New validates cfg (on a copy), checks that the brokers answer a Metadata
// request within cfg.RequestTimeout and ctx, and returns a running Sink.
// A broker that cannot store record headers (before Kafka 0.11) fails New
// with a *BrokerVersionError (requireHeaders).
// Rejected credentials or a failed TLS handshake fail New at once with a
// *SecurityError naming the setting to fix; a listener that closes or does
// not answer the connection gets a hint from what the connection saw
// (connectHint): a slow or paused broker, TLS or SASL. When the same
// settings reached the brokers earlier in this process (a pipeline restart),
// the hint says to check the broker rather than them.
func New(ctx context.Context, cfg Config, log zerolog.Logger) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mech, err := cfg.SASL.kafkaGo()
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:         cfg,
		log:         log.With().Str("component", "sink").Logger(),
		cluster:     newCluster(&cfg, mech),
		backoff:     backoff{min: cfg.BackoffMin, max: cfg.BackoffMax},
		compression: compressions[cfg.Compression],
		counts:      partitionCounts{n: make(map[string]int), routed: make(map[string]*topicState)},
		topics:      make(map[string]*topicState),
		halted:      make(chan struct{}),
		errCh:       make(chan error, 1),
		refreshDone: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.closing, s.stopSending = context.WithCancel(context.Background())
	s.warnInsecure()
	err = s.ping(ctx)
	if err == nil {
		err = s.requireHeaders(ctx)
	}
	if err == nil {
		err = s.initProducer(ctx)
	}
	if err != nil {
		s.cancel()
		s.stopSending()
		s.cluster.close()
		return nil, err
	}
	go s.refreshLoop()
	return s, nil
}

// ping sends a Metadata request to the bootstrap brokers.
func (s *Sink) ping(ctx context.Context) error {
	ref, err := s.cluster.acquire(ctx)
	if err != nil {
		return fmt.Errorf("kafka: cannot reach brokers %v: %w", s.cfg.Brokers, err)
	}
	defer s.cluster.release(ref, false)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	md, err := ref.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}})
	if err == nil && len(md.Brokers) == 0 {
		err = errors.New("the metadata response lists no brokers")
	}
	if err == nil {
		noteSettingsWorked(&s.cfg)
		return nil
	}
	seen := s.cluster.watch.seen(s.cluster.setupTimeout(), settingsWorked(&s.cfg))
	sec, fix := connectFix(err, &s.cfg, "check kafka.brokers and that the broker is running", seen)
	if sec != nil {
		return fmt.Errorf("kafka: connecting to brokers %v: %w", s.cfg.Brokers, sec)
	}
	return fmt.Errorf("kafka: cannot reach brokers %v: %w; %s", s.cfg.Brokers, err, fix)
}

// warnInsecure logs one warning when the broker's certificate is not
// verified, and one when SASL PLAIN sends the password without TLS.
func (s *Sink) warnInsecure() {
	if s.cfg.TLS != nil && s.cfg.TLS.InsecureSkipVerify {
		s.log.Warn().Strs("brokers", s.cfg.Brokers).
			Msg("kafka: kafka.tls.insecure_skip_verify is set: the brokers' certificates are not verified; never use this in production")
	}
	if s.cfg.TLS == nil && s.cfg.SASL.Mechanism == SASLPlain {
		s.log.Warn().Strs("brokers", s.cfg.Brokers).
			Msg("kafka: SASL plain without TLS sends the password in clear text; set kafka.tls.enabled: true")
	}
}

// Send routes rec to its partition's queue and returns without waiting for
// the broker. The partition writer calls rec.Ack once Kafka acknowledged the
// record with acks=all, or once it was written to the dead-letter topic;
// records are never dropped.
//
// Send must be called from one goroutine (the pipeline's), so the order of
// records within a partition is the order of the Send calls. The first Send
// to a topic fetches its partition count, creating the topic if it is
// missing; ctx bounds that and the wait for room in the partition's queue
// (which holds two batches). When the refresher has seen the topic grow
// (Config.MetadataMaxAge), the next Send to it first waits until every record
// sent to the topic before was acknowledged or dead-lettered, then routes
// with the new count (regrow); ctx, Close and a halt end that wait too. Send
// fails with the HaltError once the sink has halted, with ErrClosed after
// Close, and with a topic error if the topic cannot be described or created.
// It must not be called from an Ack (the writer calling it may be the one
// Send waits for).
func (s *Sink) Send(ctx context.Context, rec *event.Record) error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	s.sending.Add(1)
	s.mu.RUnlock()
	defer s.sending.Done()

	if err := s.haltedErr(); err != nil {
		return err
	}
	w, err := s.route(ctx, rec)
	if err != nil {
		return err
	}
	s.stats.pending.Add(1)
	size := int64(rec.Size())
	w.queuedBytes.Add(size)
	if err = w.enqueue(ctx, rec); err == nil {
		s.queued(w)
		return nil
	}
	s.stats.pending.Add(-1)
	w.queuedBytes.Add(-size)
	return err
}

// queued accounts for a record Send put in w's queue.
func (s *Sink) queued(w *writer) {
	w.growth.sent++
	w.signalIfBatch()
	if !w.touched {
		w.touched = true
		s.touched = append(s.touched, w)
	}
}

// SendNow tells the sink that the caller has nothing more to send for the
// moment (the pipeline calls it when PostgreSQL has sent everything it had
// and all of it is handed over): every record Sent so far goes out without
// waiting for the rest of Linger, which only pays while more records are
// coming. A writer with a request in flight sends them as soon as it is
// answered. Call it from the Send goroutine.
func (s *Sink) SendNow() {
	for _, w := range s.touched {
		w.touched = false
		w.urgent.Add(1)
		w.signal()
	}
	clear(s.touched)
	s.touched = s.touched[:0]
}

// route returns the writer of rec's partition, switching rec's topic to a
// larger partition count first if the refresher saw one (regrow). In
// dead_letter mode the records of a topic Kafka refuses go to its one
// dead-letter writer (refusedTopic).
func (s *Sink) route(ctx context.Context, rec *event.Record) (*writer, error) {
	if rec == nil || rec.Topic == "" {
		return nil, errors.New("kafka: Send: record without a topic")
	}
	t := s.topics[rec.Topic]
	if t == nil {
		// Close ends the wait for metadata too.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(s.closing, cancel)()
		n, err := s.partitions(ctx, rec.Topic)
		var refused *TopicRefusedError
		if errors.As(err, &refused) && s.cfg.OnFailure == OnFailureDeadLetter {
			return s.refusedTopic(refused), nil
		}
		if err != nil {
			return nil, err
		}
		t = &topicState{name: rec.Topic, parts: make([]int, n), writers: make([]*writer, n)}
		t.growth.init(n)
		for i := range t.parts {
			t.parts[i] = i
		}
		s.topics[rec.Topic] = t
		s.counts.route(t)
	}
	if t.refused != nil {
		return t.writers[0], nil
	}
	if int(t.growth.latest.Load()) != len(t.parts) {
		if err := s.regrow(ctx, t); err != nil {
			return nil, err
		}
	}
	if rec.Key == nil {
		return s.writer(t, s.stickyPartition(t, rec.Size())), nil
	}
	return s.writer(t, keyPartition(rec.Key, t.parts)), nil
}

// writer returns the writer of partition p of t, starting it if needed.
func (s *Sink) writer(t *topicState, p int) *writer {
	if w := t.writers[p]; w != nil {
		return w
	}
	w := newWriter(s, t.name, p)
	w.growth = &t.growth
	t.writers[p] = w
	s.start(w)
	return w
}

// start runs w's goroutine, known to Close.
func (s *Sink) start(w *writer) {
	s.mu.Lock()
	s.all = append(s.all, w)
	s.writers.Add(1)
	s.mu.Unlock()
	go w.run()
}

// Err returns a channel that receives the fatal error (a *HaltError) once,
// when the sink halts. It never receives if the sink does not halt.
func (s *Sink) Err() <-chan error { return s.errCh }

// halt records err as the sink's fatal error (the first one wins), reports
// it on Err, and stops every writer after its current request.
func (s *Sink) halt(err error) {
	s.haltOnce.Do(func() {
		s.haltErr = err
		close(s.halted)
		s.cancel()
		s.errCh <- err
		s.log.Error().Err(err).Msg("kafka: halted")
	})
}

// haltedErr returns the fatal error if the sink has halted.
func (s *Sink) haltedErr() error {
	select {
	case <-s.halted:
		return s.haltErr
	default:
		return nil
	}
}

// Stats returns the counters. Safe for concurrent use.
func (s *Sink) Stats() Stats {
	return Stats{
		Records:      s.stats.records.Load(),
		Batches:      s.stats.batches.Load(),
		Retries:      s.stats.retries.Load(),
		DeadLettered: s.stats.deadLettered.Load(),
		Pending:      s.stats.pending.Load(),
	}
}
