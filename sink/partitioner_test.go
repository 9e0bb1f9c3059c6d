package sink

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rs/zerolog"
)

// Kafka's own vectors for Utils.murmur2 (clients/src/test/java/org/apache/
// kafka/common/utils/UtilsTest.java, testMurmur2).
var javaMurmur2Vectors = []struct {
	key  string
	hash int32
}{
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
}

func TestJavaMurmur2Transcription(t *testing.T) {
	t.Parallel()
	for _, v := range javaMurmur2Vectors {
		if got := javaMurmur2([]byte(v.key)); got != v.hash {
			t.Errorf("murmur2(%q) = %d, Java says %d", v.key, got, v.hash)
		}
	}
}

// TestKeyPartitionMatchesJava checks the partition the sink picks against
// Java's toPositive(murmur2(key)) % n, with Kafka's vectors as the hash.
func TestKeyPartitionMatchesJava(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 64; n++ {
		parts := seq(n)
		for _, v := range javaMurmur2Vectors {
			want := int(v.hash&0x7fffffff) % n
			if got := keyPartition([]byte(v.key), parts); got != want {
				t.Errorf("keyPartition(%q, %d partitions) = %d, Java picks %d", v.key, n, got, want)
			}
		}
	}
	// Random keys, including empty and binary ones, against the transcription.
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		key := make([]byte, r.IntN(40))
		for j := range key {
			key[j] = byte(r.UintN(256))
		}
		n := 1 + i%50
		if got, want := keyPartition(key, seq(n)), javaPartition(key, n); got != want {
			t.Fatalf("keyPartition(%x, %d) = %d, want %d", key, n, got, want)
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestStickyPartitionRotatesPerBatch drives the sticky partitioner with
// writers that are not running, advancing their batch counters by hand.
func TestStickyPartitionRotatesPerBatch(t *testing.T) {
	t.Parallel()
	s := &Sink{cfg: Config{BatchMaxRecords: 3, BatchMaxBytes: 1 << 20}, log: zerolog.Nop()}
	tp := &topicState{name: "t", parts: seq(4), writers: make([]*writer, 4)}
	for p := range tp.writers {
		tp.writers[p] = newWriter(s, "t", p)
	}
	first := s.stickyPartition(tp, 10)
	if got := s.stickyPartition(tp, 10); got != first {
		t.Fatalf("second keyless record went to %d, first to %d: not sticky", got, first)
	}
	// The writer takes a batch: the next record moves on.
	tp.writers[first].batches.Add(1)
	second := s.stickyPartition(tp, 10)
	if second == first {
		t.Fatalf("partition did not rotate after its writer took a batch")
	}
	// A batch's worth of records (3) also moves it on.
	s.stickyPartition(tp, 10)
	s.stickyPartition(tp, 10)
	if third := s.stickyPartition(tp, 10); third == second {
		t.Fatalf("partition did not rotate after BatchMaxRecords records")
	}
	// Over many batches every partition is used.
	seen := map[int]bool{}
	for range 40 {
		seen[s.stickyPartition(tp, 10)] = true
	}
	if len(seen) != 4 {
		t.Errorf("keyless records used partitions %v, want all 4", fmt.Sprint(seen))
	}
}
