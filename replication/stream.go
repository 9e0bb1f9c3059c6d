package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/walrelay/walrelay/event"
)

// Message is one message of the replication stream: WAL data (Data set) or a
// primary keepalive (Keepalive true). Data aliases the connection's read
// buffer and is valid only until the next Receive.
type Message struct {
	Keepalive      bool
	WALStart       event.LSN
	ServerWALEnd   event.LSN
	ServerTime     time.Time
	ReplyRequested bool
	Data           []byte
}

// Stream is a started pgoutput stream. Use it from one goroutine only.
type Stream struct {
	conn *pgconn.PgConn
	opts StartOptions // what Start asked for; its errors name the publication and slot

	// ReceiveBy's read deadline: the one last set on the socket (zero when
	// unknown, e.g. after pgconn or a watcher moved it), and the watcher
	// that moves it to now when watched ends.
	readDeadline time.Time
	watched      context.Context
	stopWatch    func()
}

// StartOptions selects what pgoutput sends.
type StartOptions struct {
	Slot        string
	Publication string
	Start       event.LSN
	Messages    bool // ask for logical decoding messages (PostgreSQL 14+)
}

// Start issues START_REPLICATION for pgoutput protocol version 1.
func Start(ctx context.Context, conn *pgconn.PgConn, o StartOptions) (*Stream, error) {
	args := []string{"proto_version '1'", fmt.Sprintf("publication_names '%s'", o.Publication)}
	if o.Messages {
		args = append(args, "messages 'true'")
	}
	err := pglogrepl.StartReplication(ctx, conn, o.Slot, o.Start,
		pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args})
	if err != nil {
		return nil, fmt.Errorf("postgres: START_REPLICATION slot %q at %s: %w", o.Slot, o.Start, publicationDropped(err, o.Publication, o.Slot))
	}
	return &Stream{conn: conn, opts: o}, nil
}

// ReceiveBy waits for the next message until deadline, or until ctx ends.
// It returns ok=false with a nil error when the deadline passed first (the
// connection stays usable), ctx's error when ctx ended, and any other error
// when the connection is broken: a *PublicationDroppedError when the server
// ended the stream because the publication did not exist as of the WAL it
// decoded (dropped by hand), which no restart fixes.
//
// A context given to pgconn registers and removes a context watcher on every
// call, which was 7% of walrelay's CPU on the streaming path. ReceiveBy reads
// with context.Background instead: it sets the socket's read deadline only
// when deadline changes, and one watcher per ctx cuts a read short when ctx
// ends.
func (s *Stream) ReceiveBy(ctx context.Context, deadline time.Time) (m Message, ok bool, err error) {
	s.watch(ctx)
	if err := ctx.Err(); err != nil {
		s.readDeadline = time.Time{} // the watcher may have moved it
		return m, false, err
	}
	if !deadline.Equal(s.readDeadline) {
		if err := s.conn.Conn().SetReadDeadline(deadline); err != nil {
			return m, false, fmt.Errorf("postgres: replication stream: %w", err)
		}
		s.readDeadline = deadline
	}
	// Checked again after setting the deadline: a ctx ending from here on
	// moves the deadline to now after this point, and cuts the read short.
	if err := ctx.Err(); err != nil {
		s.readDeadline = time.Time{}
		return m, false, err
	}
	raw, err := s.conn.ReceiveMessage(context.Background())
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			s.readDeadline = time.Time{}
			return m, false, ctxErr
		}
		if pgconn.Timeout(err) && !time.Now().Before(deadline) {
			return m, false, nil
		}
		return m, false, fmt.Errorf("postgres: replication stream: %w", publicationDropped(err, s.opts.Publication, s.opts.Slot))
	}
	switch msg := raw.(type) {
	case *pgproto3.CopyData:
		return parseCopyData(msg.Data)
	case *pgproto3.ErrorResponse:
		err := publicationDropped(pgconn.ErrorResponseToPgError(msg), s.opts.Publication, s.opts.Slot)
		return m, false, fmt.Errorf("postgres: replication stream: %w", err)
	case *pgproto3.CopyDone:
		return m, false, fmt.Errorf("postgres: the server ended the replication stream")
	default:
		return m, false, nil
	}
}

// watch makes the end of ctx cut the current or next read short, replacing
// the watcher of an earlier ctx. The socket deadline is then unknown.
//
// A read cut short this way is not lost: pgconn keeps what it has read of
// a message after a timeout, and the next read goes on from there. So a
// reader that stops on SIGTERM can read on, with a new ctx, to the end of
// its transaction.
func (s *Stream) watch(ctx context.Context) {
	if s.watched == ctx {
		return
	}
	s.Unwatch()
	nc := s.conn.Conn()
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		_ = nc.SetReadDeadline(time.Now())
	})
	s.stopWatch = func() {
		if !stop() {
			<-fired // it ran or runs: let it finish before the deadline is set again
		}
	}
	s.watched, s.readDeadline = ctx, time.Time{}
}

// Unwatch stops ReceiveBy's watcher of the last ctx, if any, and waits for
// it if it is running: a watcher that ended after ReceiveBy set a new
// deadline would cut a later read short, and ReceiveBy would take that
// timeout, before its deadline, for a broken connection. The reader calls
// it when it stops reading, so no watcher outlives the stream.
func (s *Stream) Unwatch() {
	if s.stopWatch != nil {
		s.stopWatch()
	}
	s.watched, s.stopWatch, s.readDeadline = nil, nil, time.Time{}
}

func parseCopyData(data []byte) (m Message, ok bool, err error) {
	if len(data) == 0 {
		return m, false, fmt.Errorf("postgres: empty CopyData message")
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		k, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return m, false, fmt.Errorf("postgres: keepalive: %w", err)
		}
		return Message{Keepalive: true, ServerWALEnd: k.ServerWALEnd, ServerTime: k.ServerTime,
			ReplyRequested: k.ReplyRequested}, true, nil
	case pglogrepl.XLogDataByteID:
		x, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return m, false, fmt.Errorf("postgres: XLogData: %w", err)
		}
		return Message{WALStart: x.WALStart, ServerWALEnd: x.ServerWALEnd, ServerTime: x.ServerTime,
			Data: x.WALData}, true, nil
	}
	return m, false, nil
}

// SendStatus sends a standby status update confirming flushed: Write, Flush
// and Apply are all set explicitly to it (invariant 1: pglogrepl would copy
// Write into a zero Flush). flushed must be durable in the checkpoint store.
func (s *Stream) SendStatus(ctx context.Context, flushed event.LSN) error {
	return s.sendStatus(ctx, statusUpdate(flushed, time.Now()))
}

// Ping sends the status update of SendStatus and asks the server to answer
// it at once (with a keepalive): a reply proves the connection alive.
func (s *Stream) Ping(ctx context.Context, flushed event.LSN) error {
	u := statusUpdate(flushed, time.Now())
	u.ReplyRequested = true
	return s.sendStatus(ctx, u)
}

func (s *Stream) sendStatus(ctx context.Context, u pglogrepl.StandbyStatusUpdate) error {
	if err := s.usable(); err != nil {
		return fmt.Errorf("postgres: sending status update at %s: %w", u.WALFlushPosition, err)
	}
	err := pglogrepl.SendStandbyStatusUpdate(ctx, s.conn, u)
	if err != nil {
		flushed := u.WALFlushPosition
		s.readDeadline = time.Time{} // pgconn resets deadlines after a cancel
		return fmt.Errorf("postgres: sending status update at %s: %w", flushed, err)
	}
	return nil
}

// errConnClosed is what SendStatus, Ping and Finish return once the
// connection is closed.
var errConnClosed = errors.New("the replication connection is closed (a read failed)")

// usable returns errConnClosed once the connection is closed. A read that
// fails for anything but a timeout makes pgconn close it on a goroutine of
// its own, which writes Terminate through the connection's buffer;
// pglogrepl writes status updates and CopyDone through that buffer without
// pgconn's checks, so after a failed read (the server restarted, the
// walsender was terminated) the session's final status update raced that
// goroutine.
func (s *Stream) usable() error {
	if s.conn.IsClosed() {
		return errConnClosed
	}
	return nil
}

// Close ends the connection.
func (s *Stream) Close(ctx context.Context) error {
	s.Unwatch()
	return s.conn.Close(ctx)
}

// statusUpdate builds the standby status update that confirms flushed.
func statusUpdate(flushed event.LSN, now time.Time) pglogrepl.StandbyStatusUpdate {
	return pglogrepl.StandbyStatusUpdate{
		WALWritePosition: flushed,
		WALFlushPosition: flushed,
		WALApplyPosition: flushed,
		ClientTime:       now,
	}
}

// Finish ends the copy stream cleanly after the final status update: it sends
// CopyDone and reads (discarding WAL data still in flight) until the server
// answers, so the server has processed every status update sent before it.
// Closing the socket with unread data instead makes the kernel send a reset,
// and the server may drop the last status update. Bounded by ctx and 3 s.
func (s *Stream) Finish(ctx context.Context) error {
	deadline := time.Now().Add(3 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.usable(); err != nil {
		return fmt.Errorf("postgres: ending the replication stream: %w", err)
	}
	s.Unwatch() // its deadline must not cut the CopyDone exchange short
	nc := s.conn.Conn()
	_ = nc.SetDeadline(deadline)
	defer nc.SetDeadline(time.Time{})
	if _, err := pglogrepl.SendStandbyCopyDone(ctx, s.conn); err != nil {
		return fmt.Errorf("postgres: ending the replication stream: %w", err)
	}
	return nil
}
