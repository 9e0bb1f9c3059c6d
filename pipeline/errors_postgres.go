package pipeline

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/checkpoint"
)

// postgresGoneError is the error a session ends with when PostgreSQL went
// away under it (shut down, restarted, crashed, or the connection was
// lost), whichever of walrelay's connections noticed it first: the
// replication stream, or a checkpoint save with checkpoint.store:
// postgres. Its message says so first, so that the "pipeline halted" line
// names the cause rather than the step that met it.
type postgresGoneError struct {
	why string // what happened to PostgreSQL, e.g. "it is shutting down or restarting"
	err error
}

func (e *postgresGoneError) Error() string {
	return "PostgreSQL went away (" + e.why + "): " + e.err.Error()
}

func (e *postgresGoneError) Unwrap() error { return e.err }

// haltError is the error of session s, which halted with err and is
// restarted, as the "pipeline halted" line and the status file give it.
// A session that streamed was classified as it shut down (shutdown.go),
// knowing whether its replication connection was closed; one that failed
// in its setup is classified here (postgresGone), so that every halt of a
// PostgreSQL outage says first that PostgreSQL went away, not only the
// first: the next sessions fail to connect. Only halts go through it: a
// failure before the first session streamed exits with its error as it
// is (a refused connection then is as likely a wrong postgres.dsn as a
// server down, and its hint says to check both).
func haltError(s *session, err error) error {
	if s.streamed {
		return err
	}
	return postgresGone(err, false, s.cfg.Checkpoint.Store == "postgres")
}

// postgresGone returns err as a *postgresGoneError when it says that
// PostgreSQL went away, else err unchanged. That is: a server error that
// the server is shutting down, restarting or crashed (SQLSTATE 57P01-57P03)
// or a connection exception (class 08); a connection attempt that failed
// to reach the server (refused, reset, timed out: not one the server
// answered, such as a failed authentication, nor a TLS certificate); a
// lost connection (EOF, reset, closed) met by a checkpoint save when
// pgStore (checkpoint.store: postgres, whose store lives on the server);
// any lost connection when replLost (the session's replication connection
// is closed: PostgreSQL, or the network to it, went away). A lost
// connection otherwise (a broker's, a registry's) is not PostgreSQL's.
func postgresGone(err error, replLost, pgStore bool) error {
	var gone *postgresGoneError
	if err == nil || errors.As(err, &gone) {
		return err
	}
	if why := goneWhy(err); why != "" {
		return &postgresGoneError{why: why, err: err}
	}
	var save *checkpoint.SaveError
	var connect *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &connect) && !errors.As(err, &pe) && isConnectionError(err):
		return &postgresGoneError{why: "it does not accept connections: stopped, restarting or unreachable", err: err}
	case (replLost || pgStore && errors.As(err, &save)) && isConnectionError(err):
		return &postgresGoneError{why: "the connection to it was lost: a restart, a crash or the network", err: err}
	}
	return err
}

// goneWhy says what a server error in err's chain tells of PostgreSQL
// going away; "" if it tells nothing of it.
func goneWhy(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	switch {
	case pe.Code == "57P01": // admin_shutdown
		return "it is shutting down or restarting"
	case pe.Code == "57P02": // crash_shutdown
		return "it is restarting after a crash or an immediate stop"
	case pe.Code == "57P03": // cannot_connect_now
		return "it is shutting down, restarting or starting up"
	case strings.HasPrefix(pe.Code, "08"): // connection_exception
		return "the connection to it failed"
	}
	return ""
}
