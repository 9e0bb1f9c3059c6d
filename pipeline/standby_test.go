package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/checkpoint"
)

// A standby waits on a held slot, however the session learnt it, and on
// nothing else.
func TestStandbyWait(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&slotBusyError{slot: "s", pid: 7}, true},
		{fmt.Errorf("starting: %w", &slotBusyError{slot: "s", pid: 7}), true},
		{fmt.Errorf("checkpoint: %w", checkpoint.ErrSlotHeld), true},
		{fmt.Errorf("START_REPLICATION: %w", &pgconn.PgError{Code: "55006", Message: `replication slot "s" is active for PID 7`}), true},
		{&pgconn.PgError{Code: "42501"}, false},
		{errors.New("kafka: retries exhausted"), false},
		{fatal(errors.New("gap")), false},
	} {
		if got := standbyWait(tc.err); got != tc.want {
			t.Errorf("standbyWait(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
