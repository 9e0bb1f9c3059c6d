package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/walrelay/walrelay/internal/logfield"
)

// quietWindow is called by the reader when a wait for the server's next
// message ended at the status deadline with nothing received: a status
// interval of silence. A server that streams nothing still answers a status
// update that asks for a reply, so a connection that stays silent is dead,
// even if no read or write fails (a partition or a vanished host sends no
// FIN or RST, and TCP's retransmissions give up only after about 15
// minutes). Like PostgreSQL's own wal_receiver_timeout: after half of
// postgres.receive_timeout of silence it asks for a reply, and at the
// timeout it gives the connection up with an error, after which the
// session restarts from the checkpoint on a new connection.
//
// Only time spent waiting on the socket counts: while the publisher holds
// the reader back, nothing is read and no window is counted. The first
// window of a silence may be partial, so the silence is counted from the
// second (it is never overestimated).
func (r *reader) quietWindow(ctx context.Context) error {
	r.quiet++
	silent := time.Duration(r.quiet-1) * r.statusEvery
	timeout := r.s.cfg.Postgres.ReceiveTimeout
	switch {
	case silent >= timeout:
		return fmt.Errorf("postgres: nothing from the server for %s (postgres.receive_timeout), not even an answer "+
			"to a status update that asked for one: the connection is presumed dead, reconnecting", silent)
	case silent >= timeout/2 && !r.pinged:
		r.pinged = true
		r.s.log.Debug().Float64("silent_seconds", logfield.Seconds(silent)).Msg("postgres: asking the server for a reply")
		r.nextStatus = time.Now().Add(r.statusEvery)
		return r.s.stream.Ping(ctx, r.s.retain.confirm(time.Now(), r.s.committer.Persisted()))
	}
	return nil
}

// heard resets the silence: a message arrived.
func (r *reader) heard() {
	r.quiet, r.pinged = 0, false
}
