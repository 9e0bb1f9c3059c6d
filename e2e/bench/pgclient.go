package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// The delivery-latency reference: a minimal pgoutput client that takes each
// transaction from commit to the moment its Commit message reaches the
// client, with no decoding and no Kafka. It is to walrelay's latency what
// pg_recvlogical is to its throughput: what PostgreSQL itself delivers at
// that rate on this machine.

// clientName is the reference's consumer name in the report.
const clientName = "pgoutput client (no Kafka)"

// statusEvery is how often the client confirms what it received: well
// under wal_sender_timeout, so neither the slot holds WAL nor the walsender
// times out.
const statusEvery = 500 * time.Millisecond

// clientLatency runs the reference alone at rate: it creates slot (at the
// end of WAL) on the latency table's publication, starts streaming, measures
// while the writer runs, then closes the stream and drops the slot. Called
// on the main goroutine; the stream is read on measureWith's collector
// goroutine.
func (b *bench) clientLatency(ctx context.Context, name, slot string, rate int) LatencyResult {
	if err := createSlot(ctx, b.db, slot); err != nil {
		return LatencyResult{Consumer: name, OfferedRate: rate, Error: err.Error()}
	}
	defer dropSlot(ctx, b.db, slot)
	conn, err := startClient(ctx, b.svc.dsn, slot)
	if err != nil {
		return LatencyResult{Consumer: name, OfferedRate: rate, Error: err.Error()}
	}
	defer conn.Close(context.Background())
	return b.measureWith(ctx, name, rate, b.parties(ctx, name, 0, slot), nil, func(cctx context.Context, s *latencySamples) error {
		return readCommits(cctx, conn, slot, s)
	})
}

// startClient opens a replication connection and starts pgoutput (protocol
// version 1, the latency publication) on slot from its confirmed position.
func startClient(ctx context.Context, dsn, slot string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgoutput client: dsn: %w", err)
	}
	cfg.RuntimeParams["replication"] = "database"
	cfg.RuntimeParams["application_name"] = "walrelay-bench-client"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgoutput client: connect: %w", err)
	}
	args := []string{"proto_version '1'", fmt.Sprintf("publication_names '%s'", latencyPub)}
	err = pglogrepl.StartReplication(ctx, conn, slot, 0,
		pglogrepl.StartReplicationOptions{Mode: pglogrepl.LogicalReplication, PluginArgs: args})
	if err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("pgoutput client: START_REPLICATION slot %s: %w", slot, err)
	}
	return conn, nil
}

// readCommits reads the stream until ctx ends (then it returns nil; the
// wait for the last read is at most statusEvery), adding each transaction's
// rows to s at its Commit message's receipt time. It confirms the received
// position every statusEvery and whenever the server asks.
func readCommits(ctx context.Context, conn *pgconn.PgConn, slot string, s *latencySamples) error {
	var tx txClock
	var pos pglogrepl.LSN
	var deadline time.Time // the socket's read deadline
	next := time.Now().Add(statusEvery)
	for ctx.Err() == nil {
		if !time.Now().Before(next) {
			if err := sendStatus(conn, slot, pos); err != nil {
				return err
			}
			next = time.Now().Add(statusEvery)
		}
		if !deadline.Equal(next) {
			if err := conn.Conn().SetReadDeadline(next); err != nil {
				return fmt.Errorf("pgoutput client (slot %s): %w", slot, err)
			}
			deadline = next
		}
		raw, err := conn.ReceiveMessage(context.Background())
		recv := time.Now()
		if err != nil {
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("pgoutput client (slot %s) at %s: %w", slot, pos, err)
		}
		reply, err := handleMessage(raw, recv, &tx, &pos, s)
		if err != nil {
			return fmt.Errorf("pgoutput client (slot %s) at %s: %w", slot, pos, err)
		}
		if reply {
			next = time.Now() // answer before reading on
		}
	}
	return nil
}

// handleMessage applies one backend message: WAL data goes through tx (a
// Commit adds its rows to s), a keepalive advances pos. reply reports that
// the server asked for a status update.
func handleMessage(raw pgproto3.BackendMessage, recv time.Time, tx *txClock, pos *pglogrepl.LSN, s *latencySamples) (reply bool, err error) {
	switch msg := raw.(type) {
	case *pgproto3.ErrorResponse:
		return false, pgconn.ErrorResponseToPgError(msg)
	case *pgproto3.CopyDone:
		return false, errors.New("the server ended the stream")
	case *pgproto3.CopyData:
		if len(msg.Data) == 0 {
			return false, errors.New("empty CopyData")
		}
		switch msg.Data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			k, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
			if err != nil {
				return false, fmt.Errorf("keepalive: %w", err)
			}
			*pos = max(*pos, k.ServerWALEnd)
			return k.ReplyRequested, nil
		case pglogrepl.XLogDataByteID:
			x, err := pglogrepl.ParseXLogData(msg.Data[1:])
			if err != nil {
				return false, fmt.Errorf("XLogData: %w", err)
			}
			*pos = max(*pos, x.WALStart+pglogrepl.LSN(len(x.WALData)))
			c, done, err := tx.feed(x.WALData)
			if err != nil {
				return false, fmt.Errorf("XLogData at %s: %w", x.WALStart, err)
			}
			if done {
				s.addCommit(c.time(), recv, c.rows)
			}
		}
	}
	return false, nil
}

// sendStatus confirms pos as written, flushed and applied.
func sendStatus(conn *pgconn.PgConn, slot string, pos pglogrepl.LSN) error {
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pos, WALFlushPosition: pos, WALApplyPosition: pos, ClientTime: time.Now()})
	if err != nil {
		return fmt.Errorf("pgoutput client (slot %s): status update at %s: %w", slot, pos, err)
	}
	return nil
}

// pgoutput message sizes (protocol version 1), type byte included.
const (
	beginLen  = 1 + 8 + 8 + 4     // 'B', final LSN, commit time, xid
	commitLen = 1 + 1 + 8 + 8 + 8 // 'C', flags, commit LSN, end LSN, commit time
)

// pgEpochMicros is 2000-01-01 00:00:00 UTC in microseconds since 1970.
const pgEpochMicros = 946_684_800 * 1_000_000

// commitInfo is one decoded Commit message and the rows of its transaction.
type commitInfo struct {
	flags             uint8
	commitLSN, endLSN pglogrepl.LSN
	micros            int64 // commit time, microseconds since 2000-01-01 UTC
	rows              int   // Insert messages since the transaction's Begin
}

// time returns the commit time.
func (c commitInfo) time() time.Time { return time.UnixMicro(pgEpochMicros + c.micros) }

// parseBegin decodes a pgoutput Begin message (data[0] == 'B').
func parseBegin(data []byte) (finalLSN pglogrepl.LSN, micros int64, xid uint32, err error) {
	if len(data) < beginLen || data[0] != 'B' {
		return 0, 0, 0, fmt.Errorf("malformed Begin message (%d bytes)", len(data))
	}
	return pglogrepl.LSN(binary.BigEndian.Uint64(data[1:])), int64(binary.BigEndian.Uint64(data[9:])),
		binary.BigEndian.Uint32(data[17:]), nil
}

// parseCommit decodes a pgoutput Commit message (data[0] == 'C'); rows is
// left 0.
func parseCommit(data []byte) (commitInfo, error) {
	if len(data) < commitLen || data[0] != 'C' {
		return commitInfo{}, fmt.Errorf("malformed Commit message (%d bytes)", len(data))
	}
	return commitInfo{
		flags:     data[1],
		commitLSN: pglogrepl.LSN(binary.BigEndian.Uint64(data[2:])),
		endLSN:    pglogrepl.LSN(binary.BigEndian.Uint64(data[10:])),
		micros:    int64(binary.BigEndian.Uint64(data[18:])),
	}, nil
}

// txClock follows the pgoutput messages of one stream and counts the rows
// of the open transaction. Used by one goroutine.
type txClock struct {
	open bool
	rows int
}

// feed takes one pgoutput message. At a Commit it returns the commit with
// the transaction's row count and done true. Messages other than Begin,
// Insert and Commit (Relation, Type, Origin, ...) are ignored; a Begin
// inside a transaction, an Insert or Commit outside one, or a short Begin or
// Commit is an error.
func (t *txClock) feed(data []byte) (c commitInfo, done bool, err error) {
	if len(data) == 0 {
		return c, false, errors.New("empty pgoutput message")
	}
	switch data[0] {
	case 'B':
		if t.open {
			return c, false, errors.New("a Begin inside a transaction")
		}
		if _, _, _, err := parseBegin(data); err != nil {
			return c, false, err
		}
		t.open, t.rows = true, 0
	case 'I':
		if !t.open {
			return c, false, errors.New("an Insert outside a transaction")
		}
		t.rows++
	case 'C':
		if !t.open {
			return c, false, errors.New("a Commit outside a transaction")
		}
		if c, err = parseCommit(data); err != nil {
			return c, false, err
		}
		c.rows, t.open = t.rows, false
		return c, true, nil
	}
	return c, false, nil
}
