package pipeline

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/schema"
)

func TestFatalUnlessConnection(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		err   error
		fatal bool
	}{
		{fmt.Errorf("postgres: %w", refused), false},
		{fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), false},
		{&pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, false},
		{&pgconn.PgError{Code: "42501", Message: "permission denied"}, true},
		{errors.New(`postgres: wal_level is "replica"`), true},
	}
	for _, tc := range cases {
		if got := IsFatal(fatalUnlessConnection(tc.err)); got != tc.fatal {
			t.Errorf("%v: fatal %v, want %v", tc.err, got, tc.fatal)
		}
	}
}

// TestUnrepresentableKeyIsFatal: a numeric NaN key under precise decimals
// fails on every retry, so Run exits with the message instead of restarting.
func TestUnrepresentableKeyIsFatal(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("encode public.t: numeric NaN in key column: %w", schema.ErrUnrepresentableKey)
	if !IsFatal(err) {
		t.Errorf("IsFatal(%v) = false", err)
	}
	if IsFatal(errors.New("kafka: leader not available")) {
		t.Error("a retryable error counted as fatal")
	}
}
