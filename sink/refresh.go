package sink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// refresher is the state of the refresher goroutine (refreshLoop).
type refresher struct {
	// cl sends the Metadata requests, created on the first round with
	// topics. It is franz-go's: kafka-go's Client answers Metadata requests
	// from its Transport's cache.
	cl *kgo.Client
	// shrunk holds, per topic, the smaller count last warned about, so a
	// topic that stays smaller is logged once, not every round.
	shrunk map[string]int
}

// refreshLoop is the refresher goroutine, started by New: every
// Config.MetadataMaxAge it re-reads the partition counts of the topics the
// sink has written to (refreshCounts). It never touches the Send path, which
// picks a larger count up with one atomic load per record (growth.latest).
// It returns when the sink halts or Close starts, and closes refreshDone.
func (s *Sink) refreshLoop() {
	defer close(s.refreshDone)
	r := refresher{shrunk: make(map[string]int)}
	defer func() {
		if r.cl != nil {
			r.cl.Close()
		}
	}()
	tick := time.NewTicker(s.cfg.MetadataMaxAge)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.refreshCounts(&r)
		case <-s.ctx.Done():
			return
		case <-s.closing.Done():
			return
		}
	}
}

// refreshCounts is one round of the refresher: one Metadata request for the
// topics the sink has written to, bounded by Config.RequestTimeout, then
// applyCount for each count read. A failed request makes one warning, and
// topics the answer has no count for make one more; their counts in use stay.
func (s *Sink) refreshCounts(r *refresher) {
	routed, topics := s.counts.targets(s.cfg.DeadLetterTopic)
	if len(topics) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	defer context.AfterFunc(s.closing, cancel)()
	counts, failed, err := r.describe(ctx, &s.cfg, topics)
	if s.ctx.Err() != nil || s.closing.Err() != nil {
		return // stopping: the request was cancelled, not refused
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within kafka.request_timeout (%s): %w", s.cfg.RequestTimeout, err)
	}
	if err != nil {
		s.log.Warn().Err(err).Strs("topics", topics).Stringer("metadata_max_age", s.cfg.MetadataMaxAge).
			Msg("kafka: cannot re-read the partition counts of the topics; keeping the counts in use, trying again after metadata_max_age")
		return
	}
	for _, topic := range topics {
		if n, ok := counts[topic]; ok {
			s.applyCount(r, topic, n, routed[topic])
		}
	}
	if len(failed) > 0 {
		errs := zerolog.Dict()
		for _, topic := range slices.Sorted(maps.Keys(failed)) {
			errs.Str(topic, failed[topic].Error())
		}
		s.log.Warn().Dict("errors", errs).Stringer("metadata_max_age", s.cfg.MetadataMaxAge).
			Msg("kafka: cannot re-read the partition count of some topics; keeping their counts in use, trying again after metadata_max_age")
	}
}

// applyCount acts on n, the partition count just read for topic; t is the
// topic's state when Send routes to it, nil for the dead-letter topic. A
// larger count goes to Send through t.growth.latest (Send switches once
// what it sent before is acknowledged), or for the dead-letter topic is used
// at once. A smaller one (the topic was deleted and re-created) is logged,
// once per count read, and ignored.
func (s *Sink) applyCount(r *refresher, topic string, n int, t *topicState) {
	cur := s.counts.get(topic)
	if t != nil {
		cur = int(t.growth.latest.Load())
	}
	log := s.log.With().Str("topic", topic).Int("partitions", cur).Int("partitions_read", n).Logger()
	switch {
	case n > cur && t != nil:
		t.growth.latest.Store(int32(n))
		log.Info().Msg("kafka: topic has more partitions; the next record sent to it waits until every record " +
			"sent to it before is acknowledged, then the topic switches to the new count")
	case n > cur:
		s.counts.set(topic, n)
		log.Warn().Msg("kafka: dead-letter topic has more partitions; dead-lettered records are now spread over all of them")
	case n < cur:
		if r.shrunk[topic] != n {
			r.shrunk[topic] = n
			log.Warn().Msg("kafka: topic has fewer partitions than walrelay routes to (deleted and re-created?); " +
				"keeping the count in use, so records for the partitions it lost cannot be written: " +
				"restore the partitions, or restart walrelay to route over the new count")
		}
		return
	}
	delete(r.shrunk, topic)
}

// describe sends one Metadata request for topics and returns the partition
// count of each topic the answer has one for and the error of each it has
// not; err is set when the request failed as a whole.
func (r *refresher) describe(ctx context.Context, cfg *Config, topics []string) (counts map[string]int, failed map[string]error, err error) {
	if r.cl == nil {
		if r.cl, err = cfg.kgoClient(); err != nil {
			return nil, nil, err
		}
	}
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, r.cl)
	if err != nil {
		return nil, nil, asSecurityError(err, cfg)
	}
	counts, failed = make(map[string]int, len(topics)), make(map[string]error)
	for _, rt := range resp.Topics {
		if rt.Topic == nil {
			continue
		}
		switch err := kerr.ErrorForCode(rt.ErrorCode); {
		case err != nil:
			failed[*rt.Topic] = err
		case len(rt.Partitions) == 0:
			failed[*rt.Topic] = errors.New("the metadata lists no partitions")
		default:
			counts[*rt.Topic] = len(rt.Partitions)
		}
	}
	for _, topic := range topics {
		if _, ok := counts[topic]; !ok && failed[topic] == nil {
			failed[topic] = errors.New("missing from the metadata response")
		}
	}
	return counts, failed, nil
}
