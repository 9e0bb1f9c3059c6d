package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/sink"
)

// TestPostgresGone (auditchaos MINOR 2): a session that ends because
// PostgreSQL went away says so first, whichever connection noticed; an
// error that is not PostgreSQL's (a broker's lost connection, a refused
// record) is left as it was.
func TestPostgresGone(t *testing.T) {
	shutting := &pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is shutting down"}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	save := func(err error) error {
		return &checkpoint.SaveError{LSN: 0x16B3748, Err: fmt.Errorf("checkpoint: save LSN 0/16B3748: %w", err)}
	}
	kafka := &sink.HaltError{Topic: "p.t", Err: reset, LastOffset: -1}
	for _, c := range []struct {
		name              string
		err               error
		replLost, pgStore bool
		gone              bool
	}{
		{"store save, server shutting down", save(shutting), false, true, true},
		{"store save, connection reset", save(reset), false, true, true},
		{"stream EOF, replication connection closed", fmt.Errorf("postgres: replication stream: %w", io.ErrUnexpectedEOF), true, false, true},
		{"admin shutdown anywhere", fmt.Errorf("decoding WAL at 0/1: %w", &pgconn.PgError{Code: "57P01"}), false, false, true},
		{"kafka connection reset", kafka, false, true, false},
		{"file store save, disk error", save(errors.New("write checkpoint.json: no space left on device")), false, false, false},
		{"query canceled is no shutdown", &pgconn.PgError{Code: "57014"}, false, true, false},
	} {
		got := postgresGone(c.err, c.replLost, c.pgStore)
		var g *postgresGoneError
		if errors.As(got, &g) != c.gone {
			t.Errorf("%s: %q, want PostgreSQL gone: %v", c.name, got, c.gone)
			continue
		}
		if !errors.Is(got, c.err) || !strings.HasSuffix(got.Error(), c.err.Error()) {
			t.Errorf("%s: %q does not keep the error %q", c.name, got, c.err)
		}
		if c.gone && !strings.HasPrefix(got.Error(), "PostgreSQL went away (") {
			t.Errorf("%s: %q does not say first that PostgreSQL went away", c.name, got)
		}
	}
	if postgresGone(nil, true, true) != nil {
		t.Error("nil became an error")
	}
}

// TestEndOfSessionSave: a checkpoint save that fails as a halted session
// ends, when the process goes on, is a warning naming the checkpoint the
// next session resumes from; when a SIGTERM stops the process (or the
// error is fatal) it is the final checkpoint, an error.
func TestEndOfSessionSave(t *testing.T) {
	stopped, stop := context.WithCancel(context.Background())
	stop()
	halt := errors.New("postgres: replication stream: unexpected EOF")
	if !goesOn(context.Background(), halt) || goesOn(stopped, halt) || goesOn(context.Background(), nil) ||
		goesOn(context.Background(), fatal(halt)) {
		t.Fatal("goesOn: want true only for a non-fatal error while the Run is not stopped")
	}
	saveErr := &checkpoint.SaveError{LSN: 0x200, Err: errors.New("checkpoint: save LSN 0/200: connection reset by peer")}
	for _, on := range []bool{true, false} {
		var buf bytes.Buffer
		s := &session{cfg: &config.Config{}, log: zerolog.New(&buf), found: true,
			stored: checkpoint.Position{LSN: event.LSN(0x100)}}
		s.cfg.Checkpoint.Store = "postgres"
		s.logEndSave(saveErr, on)
		out := buf.String()
		if on && (strings.Contains(out, "final") || !strings.Contains(out, `"level":"warn"`) ||
			!strings.Contains(out, `"resume_lsn":"0/100"`) || !strings.Contains(out, `"unsaved_lsn":"0/200"`)) {
			t.Errorf("session halted, walrelay goes on: %s", out)
		}
		if !on && (!strings.Contains(out, `"level":"error"`) || !strings.Contains(out, "final checkpoint failed")) {
			t.Errorf("walrelay stops: %s", out)
		}
	}
}
