package pipeline

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/schema"
	"github.com/walrelay/walrelay/sink"
)

// FatalError is an error that restarting cannot fix (configuration, a detected
// gap, a missing privilege): Run returns it instead of retrying.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	return &FatalError{Err: err}
}

// IsFatal reports whether err must not be retried: a FatalError, or a key
// value the configured key encoding cannot carry (schema.ErrUnrepresentableKey:
// every retry would fail on the same row until decimal_handling_mode changes),
// or a sink halted by a dead-letter topic Kafka refuses for good
// (sink.ErrDeadLetterRefused: kafka.dead_letter_topic must change), or a
// stream the server ended because the publication was dropped by hand
// (replication.PublicationDroppedError: every restart fails the same way
// from the same checkpoint; the way past is a gap's).
func IsFatal(err error) bool {
	var f *FatalError
	var dropped *replication.PublicationDroppedError
	return errors.As(err, &f) || errors.Is(err, schema.ErrUnrepresentableKey) || errors.Is(err, sink.ErrDeadLetterRefused) ||
		errors.As(err, &dropped)
}

// backoff returns the delay before restart attempt n (0-based): exponential
// from lo, capped at hi, with full jitter over the upper half.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo << min(n, 20)
	if d > hi || d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// fatalUnlessConnection marks err fatal, unless it is a lost, refused or
// shut-down connection: a restart fixes those (e.g. the server restarting
// while a session sets up), while a server that answers "no" (wal_level,
// privileges, a bad publication) does not.
func fatalUnlessConnection(err error) error {
	if err == nil || isConnectionError(err) {
		return err
	}
	return fatal(err)
}

func isConnectionError(err error) bool {
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception; 57: operator intervention (shutdown).
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57")
	}
	return strings.Contains(err.Error(), "conn closed")
}

// beforeFirstStream returns err, a failure before the first session of the
// Run streamed (walrelay exits instead of restarting then), worded so that
// a halted sink's message says this process exits instead of "walrelay
// restarts from its last checkpoint", what it does once it has streamed.
// The sink's *HaltError stays in the chain, unchanged (other goroutines may
// read it).
func beforeFirstStream(err error) error {
	var halt *sink.HaltError
	if !errors.As(err, &halt) || halt.NoRestart {
		return err
	}
	exits := *halt
	exits.NoRestart = true
	return &rewordedError{err: err, msg: strings.Replace(err.Error(), halt.Error(), exits.Error(), 1)}
}

// rewordedError is err with another message.
type rewordedError struct {
	err error
	msg string
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }
