package main

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicPartitions is walrelay's default kafka.topic_partitions; Debezium's
// topics are created with it too, so partition choices are comparable.
const topicPartitions = 3

// record is one Kafka record of either connector, its topic without the
// connector's prefix ("public.alltypes", "transaction", "message").
type record struct {
	Side      string // "walrelay" or "debezium"
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte // nil for a null key
	Value     []byte // nil for a tombstone
	Headers   []kgo.RecordHeader
}

// topicSuffixes are the topics pass p expects under each prefix.
func topicSuffixes(p *pass) []string {
	return append(p.tables(), "transaction", "message")
}

// createTopics creates <prefix>.<suffix> for p's prefixes and topics with
// topicPartitions partitions (Debezium Server relies on auto-creation
// otherwise, which would give the broker's default of 1).
func createTopics(ctx context.Context, brokers []string, p *pass) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("kafka client for %v: %w", brokers, err)
	}
	defer cl.Close()
	var topics []string
	for _, prefix := range []string{p.relayPrefix(), p.dbzPrefix()} {
		for _, s := range topicSuffixes(p) {
			topics = append(topics, prefix+"."+s)
		}
	}
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, topicPartitions, 1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", topics, err)
	}
	for _, t := range resp.Sorted() {
		if t.Err != nil {
			return fmt.Errorf("create topic %s: %w", t.Topic, t.Err)
		}
	}
	return nil
}

// until says when collect has read enough of one side: done is called for
// every record read, in order, and a side is finished once it returned true
// for one of that side's records; what names the condition in messages.
type until struct {
	what string
	done func(record) bool
}

// endMarker is the usual until: the side published the end marker.
var endMarker = until{what: "the end marker", done: func(r record) bool {
	return r.Topic == "public.marker" && isEndMarker(r.Value)
}}

// collect reads every record of both prefixes' topics from the start until
// both sides met u (usually endMarker), then for settle more, or until
// timeout; alive is asked every poll and stops the wait with its error (a
// connector that exited). It returns the records in topic, partition and
// offset order.
func collect(ctx context.Context, brokers []string, prefixes map[string]string, timeout, settle time.Duration,
	alive func() error, u until) ([]record, error) {
	var alts []string
	for _, p := range prefixes {
		alts = append(alts, regexp.QuoteMeta(p))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumeRegex(), kgo.ConsumeTopics(`^(`+strings.Join(alts, "|")+`)\..*`),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(500*time.Millisecond), kgo.MetadataMaxAge(time.Second))
	if err != nil {
		return nil, fmt.Errorf("kafka consumer: %w", err)
	}
	defer cl.Close()
	var recs []record
	seen := map[string]bool{}
	deadline := time.Now().Add(timeout)
	var doneAt time.Time
	for {
		if doneAt.IsZero() && len(seen) == len(prefixes) {
			doneAt = time.Now()
			progress("both connectors published %s; reading %s more", u.what, settle)
		}
		if !doneAt.IsZero() && time.Since(doneAt) > settle {
			break
		}
		if time.Now().After(deadline) {
			return recs, fmt.Errorf("%s not seen from %v within %s", u.what, missing(prefixes, seen), timeout)
		}
		if err := alive(); err != nil {
			return recs, err
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return recs, ctx.Err()
		}
		fetches.EachRecord(func(r *kgo.Record) {
			for side, p := range prefixes {
				if !strings.HasPrefix(r.Topic, p+".") {
					continue
				}
				rec := record{Side: side, Topic: strings.TrimPrefix(r.Topic, p+"."), Partition: r.Partition,
					Offset: r.Offset, Key: r.Key, Value: r.Value, Headers: r.Headers}
				recs = append(recs, rec)
				if u.done(rec) {
					seen[side] = true
				}
			}
		})
	}
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.Offset < b.Offset
	})
	return recs, nil
}

// isEndMarker reports whether a marker value (JSON; an Avro pass's values
// are decoded first, see avroDecoder.viaJSON) is the end marker's insert:
// after.id = markerEndID.
func isEndMarker(v []byte) bool {
	d, err := decodeJSON(v)
	if err != nil {
		return false
	}
	m, _ := d.(map[string]any)
	after, _ := m["after"].(map[string]any)
	return after != nil && render(after["id"]) == fmt.Sprint(markerEndID)
}

// missing lists the sides whose end marker was not seen.
func missing(prefixes map[string]string, seen map[string]bool) []string {
	var out []string
	for side := range prefixes {
		if !seen[side] {
			out = append(out, side)
		}
	}
	sort.Strings(out)
	return out
}
