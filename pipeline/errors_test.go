package pipeline

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
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
