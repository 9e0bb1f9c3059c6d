package replication

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestStreamAfterFailedRead: once a read of the stream fails (the server
// went away), the final status update and the end of the stream, which
// the session's shutdown sends next, fail with errConnClosed instead of
// writing through the connection's buffer while pgconn's closing
// goroutine writes Terminate through it. Under -race the write raced that
// goroutine (e2e TestResiliencePostgresRestart: walrelay exited 66).
func TestStreamAfterFailedRead(t *testing.T) {
	t.Parallel()
	srv := newDroppingServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, "postgres://walrelay@"+srv.addr+"/db?sslmode=disable")
	if err != nil {
		t.Fatalf("connect to the fake server: %v", err)
	}
	defer conn.Close(context.Background())
	s := &Stream{conn: conn}

	close(srv.drop) // the server closes the connection: the read fails
	if _, ok, err := s.ReceiveBy(ctx, time.Now().Add(5*time.Second)); err == nil || ok {
		t.Fatalf("ReceiveBy after the server closed the connection: ok %v, err %v; want an error", ok, err)
	}
	if err := s.SendStatus(ctx, 0x1000); !errors.Is(err, errConnClosed) {
		t.Errorf("SendStatus after a failed read: %v, want errConnClosed", err)
	}
	if err := s.Ping(ctx, 0x1000); !errors.Is(err, errConnClosed) {
		t.Errorf("Ping after a failed read: %v, want errConnClosed", err)
	}
	if err := s.Finish(ctx); !errors.Is(err, errConnClosed) {
		t.Errorf("Finish after a failed read: %v, want errConnClosed", err)
	}
	select {
	case <-conn.CleanupDone():
	case <-ctx.Done():
		t.Fatal("pgconn's closing goroutine did not end")
	}
}

// droppingServer is a fake PostgreSQL server: it accepts one session
// (trust authentication), and closes it when drop is closed; cancel
// requests are read and closed.
type droppingServer struct {
	addr string
	drop chan struct{}
}

func newDroppingServer(t *testing.T) *droppingServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	srv := &droppingServer{addr: ln.Addr().String(), drop: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.serve(c)
		}
	}()
	return srv
}

func (srv *droppingServer) serve(c net.Conn) {
	defer c.Close()
	b := pgproto3.NewBackend(c, c)
	msg, err := b.ReceiveStartupMessage()
	if err != nil {
		return
	}
	if _, ok := msg.(*pgproto3.StartupMessage); !ok {
		return // a cancel request: nothing to cancel
	}
	b.Send(&pgproto3.AuthenticationOk{})
	b.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}})
	b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if b.Flush() != nil {
		return
	}
	<-srv.drop
}
