package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// ErrClosed is returned by Send after Close was called.
var ErrClosed = errors.New("kafka: sink is closed")

// errStaleMetadata says the client's cached metadata does not know a topic
// or its leader yet; a metadata refresh and a retry fix it.
var errStaleMetadata = errors.New("topic not in the client's metadata yet")

// permanentError marks an error that must not be retried even though Kafka
// calls it retriable (a record-level error while a batch is being split).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// HaltError is the fatal error the sink reports on Err, and returns from
// every later Send, when it gave up on a batch. Records of the batch and every
// record queued after it for the same partition were not written, so nothing
// overtook them; none of them was acked.
type HaltError struct {
	Topic     string
	Partition int
	// First and Last number the failed records among those this process sent
	// to the partition (1-based); LastOffset is the Kafka offset of the last
	// record acknowledged before them, -1 if none.
	First, Last uint64
	LastOffset  int64
	// FirstID and LastID are the ce_id headers (event IDs) of the first and
	// last failed record, when present.
	FirstID, LastID string
	Attempts        int
	// Err is the broker's or the network's error.
	Err error
	// DeadLetterTopic is set when writing a rejected record to the
	// dead-letter topic failed too.
	DeadLetterTopic string
	// NoRestart, set by the pipeline before the error is printed, says the
	// process exits instead of restarting from its checkpoint (a halt
	// before walrelay's first stream): the message says so instead.
	NoRestart bool
}

func (e *HaltError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka: halted writing topic %q partition %d: ", e.Topic, e.Partition)
	if e.First == e.Last {
		fmt.Fprintf(&b, "record %d sent to this partition", e.First)
	} else {
		fmt.Fprintf(&b, "records %d-%d sent to this partition", e.First, e.Last)
	}
	switch {
	case e.FirstID != "" && e.FirstID == e.LastID:
		fmt.Fprintf(&b, " (event ID %s)", e.FirstID)
	case e.FirstID != "":
		fmt.Fprintf(&b, " (event IDs %s .. %s)", e.FirstID, e.LastID)
	}
	if e.LastOffset >= 0 {
		fmt.Fprintf(&b, ", after offset %d", e.LastOffset)
	}
	fmt.Fprintf(&b, ", failed after %d attempt(s): %v; nothing after them was written to this partition. ", e.Attempts, e.Err)
	if e.DeadLetterTopic != "" {
		fmt.Fprintf(&b, "Make dead-letter topic %q writable for this record (ACLs, max.message.bytes); %s once that is done.",
			e.DeadLetterTopic, e.again().rewrite)
	} else {
		b.WriteString(hint(e.Err, e.again()))
	}
	return b.String()
}

func (e *HaltError) Unwrap() error { return e.Err }

// restartWords is what a halt message says happens next.
type restartWords struct {
	restart string // walrelay restarts (or must be started again)
	rewrite string // ... and writes the record (followed by " once ...")
}

// again returns the words of e's next step: a restart from the checkpoint,
// or, with NoRestart, that this process exits and must be started again.
func (e *HaltError) again() restartWords {
	if e.NoRestart {
		const exits = "this walrelay exits, as this was before its first stream (it restarts by itself only after that): start it again"
		return restartWords{restart: exits, rewrite: exits + " to write the record"}
	}
	return restartWords{restart: "walrelay restarts from its last checkpoint",
		rewrite: "walrelay restarts from its last checkpoint by itself and writes the record"}
}

// hint tells the operator what to do about err, in the words of w.
func hint(err error, w restartWords) string {
	restart := w.restart
	retries := "; " + w.rewrite + " once that is done. Or set kafka.on_failure: dead_letter and restart walrelay."
	var sec *SecurityError
	var dlq *DeadLetterRefusedError
	switch {
	case errors.As(err, &dlq):
		return dlq.Fix()
	case errors.As(err, &sec):
		return "Change the settings named above, then restart."
	case unreachable(err):
		return "Check that the brokers are running and reachable; " + restart + "."
	case errors.Is(err, kafka.MessageSizeTooLarge), errors.Is(err, kafka.RecordListTooLarge):
		return "Raise max.message.bytes on the topic (or message.max.bytes on the broker)" + retries
	case errors.Is(err, kafka.TopicAuthorizationFailed):
		return "Grant WRITE on the topic to walrelay's principal" + retries
	case recordLevel(err):
		return "The broker rejected the record: fix the cause" + retries
	case errors.Is(err, kafka.OutOfOrderSequenceNumber), errors.Is(err, kafka.UnknownProducerId),
		errors.Is(err, kafka.InvalidProducerEpoch):
		return "The broker refused this producer's sequence: it lost the producer's state (for example in a " +
			"leader change that lost data); " + restart + " with the producer's epoch bumped."
	default:
		return "If it keeps failing, fix the broker-side cause; " + restart + "."
	}
}

// unreachable reports whether err means the broker could not be reached or
// did not answer in time (connection refused or reset, timeouts, EOF).
func unreachable(err error) bool {
	var kErr kafka.Error // a broker's answer; it also looks like a net.Error
	if errors.As(err, &kErr) {
		return kErr == kafka.NetworkException || kErr == kafka.BrokerNotAvailable
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded)
}

// retriable reports whether trying the same request again may succeed:
// network trouble, stale routing metadata, and the errors Kafka documents as
// retriable (leader elections, request timeouts, not enough replicas); never
// a *SecurityError (rejected credentials, TLS failures).
func retriable(err error) bool {
	var perm *permanentError
	var sec *SecurityError
	if errors.As(err, &perm) || errors.As(err, &sec) {
		return false
	}
	if unreachable(err) || errors.Is(err, errStaleMetadata) {
		return true
	}
	var pErr protocol.Error // topic/partition/leader missing from the client's metadata
	if errors.As(err, &pErr) {
		return !errors.Is(err, protocol.ErrNoRecord)
	}
	var kErr kafka.Error
	if errors.As(err, &kErr) {
		return kErr.Temporary() || kErr == kafka.ReplicaNotAvailable
	}
	return false
}

// recordLevel reports whether err rejects the records themselves rather than
// the request: sending them alone isolates the culprit, and in dead_letter
// mode a record that still fails alone goes to the dead-letter topic.
func recordLevel(err error) bool {
	for _, e := range []kafka.Error{
		kafka.MessageSizeTooLarge, kafka.RecordListTooLarge, kafka.InvalidMessage, // CORRUPT_MESSAGE
		kafka.InvalidRecord, kafka.InvalidTimestamp, kafka.PolicyViolation,
		kafka.TopicAuthorizationFailed,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
