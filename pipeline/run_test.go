package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
)

// TestSessionHealthy pins when Run starts the restart backoff from 1 s again:
// only after a session that moved the checkpoint or streamed for long. A
// session that halts on the same record each time (it never moves the
// checkpoint) keeps backing off, up to maxRestartDelay.
func TestSessionHealthy(t *testing.T) {
	t.Parallel()
	const start = event.LSN(0x1000)
	committer := func(t *testing.T, to event.LSN) *checkpoint.Committer {
		store, err := checkpoint.NewFileStore(t.TempDir(), "slot")
		if err != nil {
			t.Fatal(err)
		}
		tr := checkpoint.NewTracker(10, 1<<20)
		tr.SetWatermark(to)
		c := checkpoint.NewCommitter(tr, store, "slot", time.Second, zerolog.Nop())
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	cases := []struct {
		name string
		s    *session
		want bool
	}{
		{"never streamed", &session{start: start}, false},
		{"halted at once, checkpoint where it began",
			&session{start: start, streamed: true, streamedAt: time.Now(), committer: committer(t, start)}, false},
		{"halted at once, no committer", &session{start: start, streamed: true, streamedAt: time.Now()}, false},
		{"moved the checkpoint",
			&session{start: start, streamed: true, streamedAt: time.Now(), committer: committer(t, start+8)}, true},
		{"streamed for long without moving it",
			&session{start: start, streamed: true, streamedAt: time.Now().Add(-time.Minute), committer: committer(t, start)}, true},
	}
	for _, tc := range cases {
		if got := tc.s.healthy(maxRestartDelay); got != tc.want {
			t.Errorf("%s: healthy %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOpenStoreErrorIsNil: a store that fails to open comes back as an
// untyped nil, so the session's cleanup (s.store != nil) does not call Close
// on a nil *PostgresStore: that panicked instead of printing the error (a
// role without CREATE on the database, ops audit D1).
func TestOpenStoreErrorIsNil(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{}
	cfg.Checkpoint.Store = "postgres" // no slot: NewPostgresStore fails before connecting
	store, err := OpenStore(context.Background(), cfg, true)
	if err == nil {
		t.Fatal("OpenStore without a slot succeeded")
	}
	if store != nil {
		t.Fatalf("OpenStore returned a non-nil Store (%T) with its error %v", store, err)
	}
}
