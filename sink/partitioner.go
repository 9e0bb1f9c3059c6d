package sink

import (
	"math/rand/v2"

	"github.com/segmentio/kafka-go"
)

// topicState is what Send knows about a topic. Owned by the Send goroutine,
// except growth's atomic fields (see growth).
type topicState struct {
	name    string
	parts   []int     // 0..n-1, the partition list the balancer picks from
	writers []*writer // by partition, started on first use
	sticky  sticky
	growth  growth
	// refused is set for a topic Kafka refuses in dead_letter mode: its
	// records all go to writers[0], which dead-letters them (refused.go).
	refused *TopicRefusedError
}

// sticky is the partition that records without a key currently go to.
type sticky struct {
	picked    bool
	partition int
	batches   uint64 // the writer's batch count when the partition was picked
	records   int    // records sent to it since
	bytes     int
}

// keyBalancer implements Java's default partitioner for keyed records:
// toPositive(murmur2(key)) % numPartitions (checked against Kafka's own test
// vectors in partitioner_test.go).
var keyBalancer = kafka.Murmur2Balancer{Consistent: true}

// keyPartition returns the partition of a non-nil key among parts.
func keyPartition(key []byte, parts []int) int {
	return keyBalancer.Balance(kafka.Message{Key: key}, parts...)
}

// stickyPartition returns the partition for a record without a key. Like
// Kafka's sticky partitioner, consecutive keyless records go to one partition
// until it has a batch's worth or its writer has taken a batch, then to the
// next partition; the first is random.
func (s *Sink) stickyPartition(t *topicState, size int) int {
	st := &t.sticky
	if st.picked {
		w := t.writers[st.partition]
		full := st.records >= s.cfg.BatchMaxRecords || st.bytes+size > s.cfg.BatchMaxBytes
		if !full && w.batches.Load() == st.batches {
			st.records++
			st.bytes += size
			return st.partition
		}
		st.partition = (st.partition + 1) % len(t.parts)
	} else {
		st.partition = rand.IntN(len(t.parts))
	}
	w := s.writer(t, st.partition)
	*st = sticky{picked: true, partition: st.partition, batches: w.batches.Load(), records: 1, bytes: size}
	return st.partition
}
