package sink

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Idempotence selects whether the sink is an idempotent producer
// (Config.Idempotence).
type Idempotence int

const (
	// IdempotenceAuto (default) asks the cluster for a producer id and, if
	// the cluster refuses (no IDEMPOTENT_WRITE or WRITE permission, a broker
	// too old), logs a warning and produces without one.
	IdempotenceAuto Idempotence = iota
	// IdempotenceOn requires a producer id: New fails without one.
	IdempotenceOn
	// IdempotenceOff never asks for one.
	IdempotenceOff
)

// producer is an idempotent producer session: the broker keeps, per
// producer id and partition, the sequence numbers of the last batches it
// wrote. A batch that repeats one (a retry after a timeout whose first
// attempt was written after all) is acknowledged with its first offset and
// not written again, and one that skips ahead is refused
// (OUT_OF_ORDER_SEQUENCE_NUMBER). So a retried batch can neither land twice
// nor land after a later one: kafka-go alone cannot promise that, since a
// request abandoned on timeout may still reach the broker after its retry.
type producer struct {
	id    int64
	epoch int16
}

// ProducerID is the identity of an idempotent producer: the id the cluster
// gave and the epoch in use. A later Sink of the same process continues it
// (Config.ResumeProducer).
type ProducerID struct {
	ID    int64
	Epoch int16
}

// Producer returns the sink's producer id and epoch; ok is false when the
// sink produces without idempotence.
func (s *Sink) Producer() (id ProducerID, ok bool) {
	if s.producer == noProducer {
		return ProducerID{}, false
	}
	return ProducerID{ID: s.producer.id, Epoch: s.producer.epoch}, true
}

// noProducer marks batches without a producer id (idempotence off, and the
// dead-letter topic, whose partitions several writers share).
var noProducer = producer{id: -1, epoch: -1}

// nextSequence returns the base sequence of the batch after one of n
// records at seq; sequences wrap to 0 after MaxInt32, as Kafka's do.
func nextSequence(seq int32, n int) int32 {
	if int64(seq)+int64(n) > math.MaxInt32 {
		return int32(int64(seq) + int64(n) - math.MaxInt32 - 1)
	}
	return seq + int32(n)
}

// initProducer sets s.producer as cfg.Idempotence asks. Called once by New,
// before any writer runs. With Config.ResumeProducer it continues that
// producer with the next epoch, as the Java producer bumps an idempotent
// producer's epoch (KIP-360): the broker then refuses any batch of an
// earlier epoch (INVALID_PRODUCER_EPOCH), so a request the previous sink
// abandoned cannot land after this sink's records, and this sink's
// sequences start again at 0 on every partition.
func (s *Sink) initProducer(ctx context.Context) error {
	s.producer = noProducer
	if s.cfg.Idempotence == IdempotenceOff {
		return nil
	}
	if s.compression != 0 { // IdempotenceOn with compression fails Validate
		s.log.Info().Str("compression", s.cfg.Compression).
			Msg("kafka: producing without idempotence: walrelay's idempotent batches are uncompressed (kafka.compression: none)")
		return nil
	}
	if r := s.cfg.ResumeProducer; r != nil && r.Epoch < math.MaxInt16 {
		s.producer = producer{id: r.ID, epoch: r.Epoch + 1}
		s.log.Info().Int64("producer_id", r.ID).Int16("producer_epoch", r.Epoch+1).
			Msg("kafka: idempotent producer, epoch bumped: requests of the previous session still in flight are refused")
		return nil
	}
	p, err := requestProducerID(ctx, &s.cfg)
	switch {
	case err == nil:
		s.producer = p
		s.log.Info().Int64("producer_id", p.id).Int16("producer_epoch", p.epoch).Msg("kafka: idempotent producer")
		return nil
	case s.cfg.Idempotence == IdempotenceAuto && refusesIdempotence(err):
		s.log.Warn().Err(err).Msg("kafka: the cluster refused a producer id; producing without idempotence " +
			"(a batch retried after a timeout may then land twice or after a later one; grant IDEMPOTENT_WRITE " +
			"on the cluster, or set kafka.idempotence: false to silence this)")
		return nil
	}
	return fmt.Errorf("kafka: cannot get a producer id for idempotent writes: %w (grant IDEMPOTENT_WRITE on the cluster, "+
		"or WRITE on the topics with Kafka 3.0 or later; or set kafka.idempotence: false)", err)
}

// refusesIdempotence reports an answer that says the cluster will not give
// this client a producer id, as opposed to a failure to reach it.
func refusesIdempotence(err error) bool {
	return errors.Is(err, kerr.ClusterAuthorizationFailed) || errors.Is(err, kerr.TransactionalIDAuthorizationFailed) ||
		errors.Is(err, kerr.UnsupportedVersion) || errors.Is(err, kerr.UnsupportedForMessageFormat)
}

// requestProducerID sends InitProducerId without a transactional id to any
// broker, retrying for a few seconds while the cluster loads its producer
// id manager. It uses franz-go: kafka-go routes every InitProducerId to a
// transaction coordinator, found with FindCoordinator for the id "".
func requestProducerID(ctx context.Context, cfg *Config) (producer, error) {
	cl, err := cfg.kgoClient()
	if err != nil {
		return noProducer, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionTimeoutMillis = int32(time.Minute / time.Millisecond)
	for {
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err == nil {
			return producer{id: resp.ProducerID, epoch: resp.ProducerEpoch}, nil
		}
		if !kerr.IsRetriable(err) {
			return noProducer, asSecurityError(err, cfg)
		}
		select {
		case <-ctx.Done():
			return noProducer, fmt.Errorf("%w (last answer: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kgoClient returns a franz-go client for cfg's brokers, TLS and SASL, with
// opts added.
func (c *Config) kgoClient(opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(c.ClientID),
		kgo.RequestTimeoutOverhead(c.RequestTimeout)}
	return kgo.NewClient(append(append(base, c.kgoOpts()...), opts...)...)
}
