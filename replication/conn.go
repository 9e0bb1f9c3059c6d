package replication

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/internal/pgdsn"
)

// sessionParams fix the text forms the decoder parses, whatever the server's
// defaults are.
var sessionParams = map[string]string{
	"TimeZone":           "UTC",
	"DateStyle":          "ISO, MDY",
	"IntervalStyle":      "postgres",
	"extra_float_digits": "3",
	"lc_monetary":        "C",
	"application_name":   "walrelay",
	// A role's idle_in_transaction_session_timeout would end the walsender
	// that exported the initial snapshot while the snapshot is read (it is
	// idle in that transaction until START_REPLICATION), and a snapshot
	// reader that waits for Kafka between chunks.
	"idle_in_transaction_session_timeout": "0",
}

// DefaultConnectTimeout bounds each connection attempt (TCP, TLS and the
// start-up exchange) when postgres.dsn sets no connect_timeout, as the
// PostgreSQL JDBC driver Debezium uses does (10 s). Without it a host that
// accepts TCP and never answers would hang start-up, walrelay check, and every
// reconnect, with nothing logged.
const DefaultConnectTimeout = 10 * time.Second

// connectTimeout applies DefaultConnectTimeout to a config whose DSN had no
// connect_timeout (pgconn leaves ConnectTimeout zero then).
func connectTimeout(cfg *pgconn.Config) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
}

// ConnectReplication opens a logical replication connection (replication=database).
func ConnectReplication(ctx context.Context, dsn string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid dsn: %w", pgdsn.Wrap(err, dsn))
	}
	if err := checkHosts(cfg, dsn); err != nil {
		return nil, err
	}
	connectTimeout(cfg)
	for k, v := range sessionParams {
		cfg.RuntimeParams[k] = v
	}
	cfg.RuntimeParams["replication"] = "database"
	// CREATE_REPLICATION_SLOT waits for the open transactions to end, for
	// as long as they take, through a lock wait.
	cfg.RuntimeParams["statement_timeout"] = "0"
	cfg.RuntimeParams["lock_timeout"] = "0"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, explainConnect(err, cfg.Host, cfg.Port, cfg.User, true)
	}
	return conn, nil
}

// ConnectSQL opens an ordinary connection for catalog queries and set-up.
func ConnectSQL(ctx context.Context, dsn string) (*pgx.Conn, error) {
	return connectSQL(ctx, dsn, nil)
}

// connectSQL opens an ordinary connection with sessionParams and extra as
// start-up parameters.
func connectSQL(ctx context.Context, dsn string, extra map[string]string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid dsn: %w", pgdsn.Wrap(err, dsn))
	}
	if err := checkHosts(&cfg.Config, dsn); err != nil {
		return nil, err
	}
	connectTimeout(&cfg.Config)
	for _, params := range []map[string]string{sessionParams, extra} {
		for k, v := range params {
			cfg.RuntimeParams[k] = v
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, explainConnect(err, cfg.Host, cfg.Port, cfg.User, false)
	}
	return conn, nil
}

// snapshotParams are the start-up parameters of snapshot connections
// (ConnectSnapshot), on top of sessionParams: a statement_timeout or
// lock_timeout set on the role or database would cancel a snapshot's LOCK
// TABLE while a DDL holds the table, or a chunk query that reads longer,
// and the retry would wait and be cancelled again forever. A snapshot waits
// for its lock and its reads as long as they take (an ACCESS SHARE lock
// waiting in the queue holds back only DDL).
var snapshotParams = map[string]string{
	"statement_timeout": "0",
	"lock_timeout":      "0",
}

// ConnectSnapshot opens an ordinary connection for reading snapshots
// (initial, catch-up and incremental chunks): ConnectSQL's, with no
// statement or lock timeout whatever the role or database sets. Catalog
// and set-up connections (ConnectSQL) keep the DBA's timeouts: their
// queries are short, and a timeout turns one stuck behind a lock into an
// error walrelay reports and retries rather than a silent hang.
func ConnectSnapshot(ctx context.Context, dsn string) (*pgx.Conn, error) {
	return connectSQL(ctx, dsn, snapshotParams)
}

// checkHosts refuses a DSN whose parsed host holds an '@' (an unencoded '@'
// in a URL's password): connecting would print part of the password as the
// host name. config refuses such a URL first; this guards every other caller.
func checkHosts(cfg *pgconn.Config, dsn string) error {
	if err := pgdsn.CheckURL(dsn); err != nil {
		return fmt.Errorf("postgres: invalid dsn: %w", err)
	}
	if pgdsn.HostHasAt(cfg) {
		return fmt.Errorf("postgres: invalid dsn: %w", pgdsn.ErrAtInURL)
	}
	return nil
}

// ErrPrivilege marks a missing privilege; the message says which and how to grant it.
var ErrPrivilege = errors.New("missing privilege")

// explainConnect turns a connection failure into one actionable sentence.
func explainConnect(err error, host string, port uint16, user string, replication bool) error {
	addr := net.JoinHostPort(host, fmt.Sprint(port))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "28000" && replication:
			return fmt.Errorf("postgres %s: role %q may not open a replication connection: %s (run ALTER ROLE %s REPLICATION; and allow it in pg_hba.conf): %w",
				addr, user, pgErr.Message, pgx.Identifier{user}.Sanitize(), ErrPrivilege)
		case pgErr.Code == "42501" && replication: // the role lacks the REPLICATION attribute
			return fmt.Errorf("postgres %s: role %q lacks the REPLICATION attribute: %s (as a superuser: ALTER ROLE %s REPLICATION;): %w",
				addr, user, pgErr.Message, pgx.Identifier{user}.Sanitize(), ErrPrivilege)
		case pgErr.Code == "28P01" || pgErr.Code == "28000":
			return fmt.Errorf("postgres %s: authentication failed for role %q: %s (check the user and password in postgres.dsn)", addr, user, pgErr.Message)
		case pgErr.Code == "3D000":
			return fmt.Errorf("postgres %s: %s (check the database name in postgres.dsn)", addr, pgErr.Message)
		}
		return &connectError{msg: fmt.Sprintf("postgres %s: %s (SQLSTATE %s)", addr, pgErr.Message, pgErr.Code), err: err}
	}
	if isCertError(err) {
		return fmt.Errorf("postgres: cannot verify the TLS certificate of %s: %s (put the CA that signed the server's certificate in sslrootcert=/path/ca.pem in postgres.dsn, with sslmode=verify-full; the host name in the DSN must be one the certificate names)",
			addr, oneLine(err))
	}
	return &connectError{err: err,
		msg: fmt.Sprintf("postgres: cannot connect to %s (check postgres.dsn and that the server is running): %s", addr, oneLine(err))}
}

// connectError is a failed connection attempt as explainConnect words it,
// on one line, with pgconn's error kept in its chain: a caller can tell a
// server that refused connections or was shutting down (SQLSTATE 57P03)
// from other failures (pipeline: "PostgreSQL went away" halts).
type connectError struct {
	msg string
	err error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.err }

// isCertError reports whether err is a failure to verify the server's TLS
// certificate (sslmode=verify-ca or verify-full).
func isCertError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// oneLine flattens pgconn's multi-line connect errors (one line per address
// tried) into one line, dropping repeats.
func oneLine(err error) string {
	var parts []string
	for _, p := range strings.Split(err.Error(), "\n") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}
