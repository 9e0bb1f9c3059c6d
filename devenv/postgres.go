package devenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/rs/zerolog"
)

// PGOptions configures StartPostgres. The zero value is a good default.
type PGOptions struct {
	// Port is the TCP port on 127.0.0.1. Default 0: a free port is picked,
	// and picked again if another process takes it before PostgreSQL binds.
	Port int
	// Settings are extra postgresql.conf parameters (GUCs), for example
	// {"wal_sender_timeout": "10s"}. They override the built-in settings
	// (wal_level=logical, max_replication_slots=20, max_wal_senders=20,
	// fsync=off, listen_addresses=127.0.0.1). Default: none.
	Settings map[string]string
	// Fsync keeps fsync=on and full_page_writes=on. Default false: both
	// off, which is much faster and loses data only if the operating system
	// crashes; a crash of PostgreSQL itself (Stop("immediate")) loses no
	// committed transaction.
	Fsync bool
	// Dir is the parent of the cluster's temporary directory. Default "":
	// os.TempDir(). When running as root it must be reachable by User.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres. Default "": found by
	// FindPostgresBinDir.
	BinDir string
	// User runs PostgreSQL when the calling process is root. Default "":
	// DefaultPGUser. Ignored when not root.
	User string
	// Logger receives one line per state change (initialised, started,
	// stopped). Default nil: no logging.
	Logger *zerolog.Logger
}

// Postgres is a throwaway PostgreSQL cluster in a temporary directory,
// listening on 127.0.0.1 with trust authentication and superuser "postgres".
// Its methods are safe for concurrent use; Stop, Start and Restart act on the
// same data directory and port, so clients reconnect to the same DSN.
type Postgres struct {
	mu       sync.Mutex
	binDir   string
	root     string // temporary directory: data/, socket, log
	port     int
	autoPort bool
	settings map[string]string
	run      runAs
	log      zerolog.Logger
	running  bool
	closed   bool
}

// StartPostgres initialises a new cluster (initdb -U postgres, trust auth)
// in a temporary directory and starts it. ctx bounds initdb and the first
// start; the cluster keeps running after ctx ends until Stop or Close.
//
// When the PostgreSQL binaries are missing the error wraps
// ErrNoPostgresBinaries and says how to install them. On any error nothing
// is left running and the temporary directory is removed.
func StartPostgres(ctx context.Context, opts PGOptions) (*Postgres, error) {
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = FindPostgresBinDir(); err != nil {
			return nil, err
		}
	} else if !hasPGTools(binDir) {
		return nil, fmt.Errorf("%w in PGOptions.BinDir %s; install them with %s",
			ErrNoPostgresBinaries, binDir, installHint())
	}
	run, err := resolveRunAs(opts.User)
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(opts.Dir, "walrelay-pg-")
	if err != nil {
		return nil, fmt.Errorf("devenv: create the cluster directory: %w", err)
	}
	p := &Postgres{binDir: binDir, root: root, port: opts.Port, autoPort: opts.Port == 0, run: run, log: zerolog.Nop()}
	if opts.Logger != nil {
		p.log = opts.Logger.With().Str("component", "devenv.postgres").Logger()
	}
	p.settings = baseSettings(root, opts.Fsync)
	for k, v := range opts.Settings {
		p.settings[k] = v
	}
	if err := p.init(ctx); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	if err := p.startLocked(ctx); err != nil {
		_ = os.RemoveAll(root)
		return nil, err
	}
	return p, nil
}

// baseSettings are the GUCs every devenv cluster gets.
func baseSettings(root string, fsync bool) map[string]string {
	s := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": socketDir(root),
		"wal_level":               "logical",
		"max_replication_slots":   "20",
		"max_wal_senders":         "20",
		"fsync":                   "off",
		"full_page_writes":        "off",
	}
	// Committed transactions survive Stop("immediate") either way: WAL is
	// written to the kernel at commit, only its fsync is skipped.
	if fsync {
		s["fsync"] = "on"
		s["full_page_writes"] = "on"
	}
	return s
}

// socketDir returns root, or "" (no Unix socket, TCP only) when the socket
// path would pass the operating system's limit of about 107 bytes.
func socketDir(root string) string {
	if len(root)+len("/.s.PGSQL.65535") > 100 {
		return ""
	}
	return root
}

// DSN returns the superuser URL of database db ("" means "postgres"):
// postgres://postgres@127.0.0.1:PORT/db?sslmode=disable.
func (p *Postgres) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port(), db)
}

// Port returns the TCP port on 127.0.0.1.
func (p *Postgres) Port() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.port
}

// Dir returns the cluster's temporary directory (data directory, socket, log).
func (p *Postgres) Dir() string { return p.root }

// DataDir returns the PostgreSQL data directory.
func (p *Postgres) DataDir() string { return filepath.Join(p.root, "data") }

// LogPath returns the server log file.
func (p *Postgres) LogPath() string { return filepath.Join(p.root, "postgres.log") }

// BinDir returns the directory of the PostgreSQL binaries in use.
func (p *Postgres) BinDir() string { return p.binDir }

// Running reports whether the server was started and not stopped since.
func (p *Postgres) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// Start starts a stopped cluster again on the same port and data directory
// and waits until it accepts connections. Starting a running cluster is a
// no-op.
func (p *Postgres) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("devenv: start postgres: cluster is closed")
	}
	if p.running {
		return nil
	}
	return p.startLocked(context.Background())
}

// Stop stops the server with pg_ctl stop -m mode: "fast" (default for ""),
// "immediate" (a crash: recovery runs on the next Start) or "smart".
// Stopping a stopped cluster is a no-op.
func (p *Postgres) Stop(mode string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopLocked(mode)
}

// Restart stops the server with the given mode (see Stop) and starts it again.
func (p *Postgres) Restart(mode string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.stopLocked(mode); err != nil {
		return err
	}
	return p.startLocked(context.Background())
}

// SetConfig sets one postgresql.conf parameter and, when the server runs,
// reloads its configuration. Parameters that need a server restart (for
// example max_wal_senders) take effect only after Restart.
func (p *Postgres) SetConfig(key, value string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("devenv: set %s: cluster is closed", key)
	}
	p.settings[key] = value
	if err := p.writeConf(); err != nil {
		return err
	}
	if !p.running {
		return nil
	}
	if _, err := p.pgctl(context.Background(), "reload", "-D", p.DataDir(), "-s"); err != nil {
		return fmt.Errorf("devenv: reload after setting %s=%s: %w", key, value, err)
	}
	p.log.Info().Str("key", key).Str("value", value).Msg("postgres config reloaded")
	return nil
}

// Close stops the server (fast, then immediate if that fails) and removes
// the temporary directory. It is safe to call more than once.
func (p *Postgres) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	stopErr := p.stopLocked("fast")
	if stopErr != nil {
		stopErr = p.stopLocked("immediate")
	}
	if err := os.RemoveAll(p.root); err != nil {
		return fmt.Errorf("devenv: remove %s: %w", p.root, err)
	}
	p.log.Info().Str("dir", p.root).Msg("postgres cluster removed")
	return stopErr
}

// portString is the port for log fields.
func (p *Postgres) portString() string { return strconv.Itoa(p.port) }
