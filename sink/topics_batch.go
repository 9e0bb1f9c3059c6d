package sink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/walrelay/walrelay/internal/logfield"
	"github.com/walrelay/walrelay/internal/waits"
)

// prepareChunk is the most topics one Metadata or CreateTopics request of
// Prepare names.
const prepareChunk = 500

// Prepared is what Prepare did.
type Prepared struct {
	Topics   int // distinct topics asked for that the sink had not read yet
	Existing int // found with their partition count
	Created  int // created by Prepare, or meanwhile by someone else (TOPIC_ALREADY_EXISTS)
	Left     int // left to Send's first write: invalid names, refusals, failures, not visible yet
	Requests int // Metadata and CreateTopics requests made, retries included
	Probes   int // ListOffsets requests made to see the created partitions' leaders answer
	NotReady int // created partitions whose leader did not answer in time (their writers retry)
}

// Prepare reads the partition counts of topics, and creates those that do
// not exist, in batches: one Metadata request per prepareChunk topics, then
// one CreateTopics request per prepareChunk missing topics, with the
// settings, logging and error meaning of a topic created by Send
// (Config.TopicPartitions, Config.TopicReplicationFactor,
// Config.TopicConfig; TOPIC_ALREADY_EXISTS is success). Each count read is
// kept, so Send's first write to the topic needs no request. It then waits
// until the partitions it created answer from their leaders (awaitLeaders),
// so that the first writes to many new topics do not all fail together.
//
// Prepare is an optimisation and never changes what happens to records: a
// topic it cannot settle (a name Kafka forbids, a creation the broker
// refuses or fails, a topic not yet in the client's metadata) is left to
// Send's first write, which creates it or fails as it would without Prepare
// (*TopicRefusedError, dead_letter). The error is that of a request that
// failed after Config.MaxAttempts, or ctx's; the topics not settled by then
// are left to Send too, so callers may log it and go on. Safe to call before
// or between Sends; Close ends it.
func (s *Sink) Prepare(ctx context.Context, topics []string) (Prepared, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.closing, cancel)()
	began := time.Now()
	todo := s.unread(topics)
	p := Prepared{Topics: len(todo)}
	if len(todo) == 0 {
		return p, nil
	}
	todo = slices.DeleteFunc(todo, func(t string) bool { return checkTopicName(t) != nil })
	log := s.log.With().Str("step", "prepare topics").Logger()
	found, missing, err := s.describeAll(ctx, log, todo, &p)
	p.Existing = found
	if err == nil && len(missing) > 0 {
		var created []string
		created, err = s.createAll(ctx, log, firstOfCollisions(missing), &p)
		if err == nil && len(created) > 0 {
			p.Created, _, err = s.describeAll(ctx, log, created, &p)
		}
		if err == nil && p.Created > 0 {
			p.NotReady = s.awaitLeaders(ctx, created, &p)
		}
	}
	p.Left = p.Topics - p.Existing - p.Created
	log.Info().Int("topics", p.Topics).Int("existing", p.Existing).Int("created", p.Created).
		Int("left_to_first_write", p.Left).Int("not_ready_partitions", p.NotReady).
		Int("requests", p.Requests).Int("probes", p.Probes).
		Float64("took_seconds", logfield.Seconds(time.Since(began))).Msg("kafka: topics prepared")
	return p, err
}

// unread returns the distinct topics whose partition count the sink has not
// read yet, sorted.
func (s *Sink) unread(topics []string) []string {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	var out []string
	for _, t := range topics {
		if _, ok := s.counts.n[t]; !ok && t != "" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// describeAll reads the partition counts of topics, prepareChunk a request,
// and keeps those found (counts.set, noteTopic). It returns how many it
// found and the topics the metadata does not know; topics found with an
// error or without partitions yet are in neither, left to Send.
func (s *Sink) describeAll(ctx context.Context, log zerolog.Logger, topics []string, p *Prepared) (int, []string, error) {
	found := 0
	var missing []string
	for chunk := range slices.Chunk(topics, prepareChunk) {
		var md *kafka.MetadataResponse
		n, err := s.retry(ctx, log, func(ctx context.Context, cl *kafka.Client) error {
			ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
			defer cancel()
			var err error
			md, err = cl.Metadata(ctx, &kafka.MetadataRequest{Topics: chunk})
			return err
		})
		p.Requests += n
		if err != nil {
			return found, missing, err
		}
		for _, t := range md.Topics {
			switch {
			case !slices.Contains(chunk, t.Name):
			case errors.Is(t.Error, kafka.UnknownTopicOrPartition):
				missing = append(missing, t.Name)
			case t.Error == nil && len(t.Partitions) > 0:
				s.counts.set(t.Name, len(t.Partitions))
				noteTopic(&s.cfg, t.Name)
				found++
			}
		}
	}
	return found, missing, nil
}

// firstOfCollisions returns topics without those whose name collides with
// an earlier one's under Kafka's rule that '.' and '_' are the same
// (public.a.b and public.a_b). Kafka refuses to create the second of two
// such topics, but may not compare the topics of one CreateTopics request
// with each other: the later ones are left to Send, whose creation Kafka
// then refuses as it would without Prepare.
func firstOfCollisions(topics []string) []string {
	seen := make(map[string]bool, len(topics))
	var out []string
	for _, t := range topics {
		k := strings.ReplaceAll(t, ".", "_")
		if !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// createAll creates topics, prepareChunk a request, with createTopic's
// settings, and returns those that exist now (created, or found existing).
// The others are left to Send, whose own creation reports why (logged here
// at debug level).
func (s *Sink) createAll(ctx context.Context, log zerolog.Logger, topics []string, p *Prepared) ([]string, error) {
	var exist []string
	entries := s.topicConfigEntries()
	for chunk := range slices.Chunk(topics, prepareChunk) {
		req := &kafka.CreateTopicsRequest{Topics: make([]kafka.TopicConfig, len(chunk))}
		for i, t := range chunk {
			req.Topics[i] = kafka.TopicConfig{Topic: t, NumPartitions: s.cfg.TopicPartitions,
				ReplicationFactor: s.cfg.TopicReplicationFactor, ConfigEntries: entries}
		}
		var res *kafka.CreateTopicsResponse
		n, err := s.retry(ctx, log, func(ctx context.Context, cl *kafka.Client) error {
			ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
			defer cancel()
			var err error
			res, err = cl.CreateTopics(ctx, req)
			return err
		})
		p.Requests += n
		if err != nil {
			return exist, err
		}
		for _, t := range chunk {
			if err := s.createResult(t, res.Errors[t], true); err != nil {
				log.Debug().Str("topic", t).Err(err).Msg("kafka: topic not created in a batch, left to its first write")
				continue
			}
			exist = append(exist, t)
		}
	}
	return exist, nil
}

// awaitLeaders waits until every partition of the topics Prepare created
// (those whose count it read) answers ListOffsets from its leader. A new
// partition answers NOT_LEADER_OR_FOLLOWER until its broker has taken it up,
// and a broker takes up hundreds of them at once slowly (seconds): writes
// sent at once to all of them would fail together and spend their
// attempts. It asks again, with fresh metadata and a growing pause (up to
// Config.BackoffMax), while the partitions keep coming up, and gives up
// when none did for Config.RequestTimeout or a request fails in a way a
// retry cannot fix; it counts no retry in Stats and logs nothing. It
// returns how many partitions did not answer; their writers retry as usual.
func (s *Sink) awaitLeaders(ctx context.Context, topics []string, p *Prepared) int {
	pending := map[string]int{}
	for _, t := range topics {
		if n := s.counts.get(t); n > 0 {
			pending[t] = n
		}
	}
	progress := time.Now()
	for delay := s.cfg.BackoffMin; len(pending) > 0; delay = min(2*delay, s.cfg.BackoffMax) {
		before := len(pending)
		for chunk := range slices.Chunk(slices.Sorted(maps.Keys(pending)), prepareChunk) {
			ref, err := s.cluster.acquire(ctx)
			if err != nil {
				return partitionsOf(pending)
			}
			err = s.listOffsets(ctx, ref.client, chunk, pending)
			s.cluster.release(ref, err != nil)
			p.Probes++
			if err != nil && !retriable(err) {
				return partitionsOf(pending)
			}
		}
		if len(pending) < before {
			progress = time.Now()
		}
		if len(pending) == 0 || time.Since(progress) > s.cfg.RequestTimeout {
			break
		}
		if err := waits.Sleep(ctx, delay); err != nil {
			break
		}
	}
	return partitionsOf(pending)
}

// partitionsOf adds up the partition counts of pending.
func partitionsOf(pending map[string]int) int {
	n := 0
	for _, c := range pending {
		n += c
	}
	return n
}

// listOffsets asks the leaders of the pending partitions of topics for their
// end offsets, and deletes from pending every topic whose partitions all
// answered. While some did not, it fails with a retriable error.
func (s *Sink) listOffsets(ctx context.Context, cl *kafka.Client, topics []string, pending map[string]int) error {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, t := range topics {
		if n, ok := pending[t]; ok {
			for i := range n {
				req.Topics[t] = append(req.Topics[t], kafka.LastOffsetOf(i))
			}
		}
	}
	if len(req.Topics) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	res, err := cl.ListOffsets(ctx, req)
	if err != nil {
		return err
	}
	for t := range req.Topics {
		parts := res.Topics[t]
		ok := len(parts) == pending[t]
		for _, pt := range parts {
			ok = ok && pt.Error == nil
		}
		if ok {
			delete(pending, t)
		}
	}
	for t := range req.Topics {
		if _, ok := pending[t]; ok {
			return fmt.Errorf("%w: the partitions of topic %q do not all answer from a leader yet", errStaleMetadata, t)
		}
	}
	return nil
}
