package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/devenv"
)

// EnvPGDSN names the variable that points tests at an existing PostgreSQL
// (a superuser DSN, wal_level=logical).
const EnvPGDSN = "WALRELAY_TEST_PG_DSN"

// Postgres is a PostgreSQL server for tests, returned by PG and PrivatePG.
// Its methods may be called from parallel tests.
type Postgres struct {
	dsn    string           // superuser DSN of the maintenance database
	source string           // where the server came from, for logs
	dev    *devenv.Postgres // nil unless started by testenv
}

// DSN returns the superuser DSN of the server's maintenance database.
func (p *Postgres) DSN() string { return p.dsn }

// Source says where the server came from: "WALRELAY_TEST_PG_DSN",
// "devenv (shared)" or "devenv (private)".
func (p *Postgres) Source() string { return p.source }

// Devenv returns the throwaway cluster behind p, which tests may Stop,
// Start and Restart, or nil when the server is not restartable (it came from
// WALRELAY_TEST_PG_DSN). A shared cluster is shared by every test of the
// binary: restart only a PrivatePG unless the package's tests are serial.
func (p *Postgres) Devenv() *devenv.Postgres { return p.dev }

// shared is the one cluster per test binary that Main enables.
var shared struct {
	mu      sync.Mutex
	enabled bool // Main is running the tests
	pg      *devenv.Postgres
}

// envPGCheck verifies WALRELAY_TEST_PG_DSN once per binary.
var envPGCheck struct {
	once sync.Once
	err  error
}

// Main runs the package's tests with Run and exits with their status. Call
// it from TestMain when the package has nothing else to set up:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the package's tests with one shared throwaway PostgreSQL (started
// by the first PG call when WALRELAY_TEST_PG_DSN is unset), removes it at the
// end and returns m.Run's status. Use it from a TestMain that has its own
// setup or teardown:
//
//	func TestMain(m *testing.M) { os.Exit(run(m)) }
//	func run(m *testing.M) int { setup(); defer teardown(); return testenv.Run(m) }
func Run(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()
	defer closeShared()
	return m.Run()
}

// closeShared removes the shared cluster, if one was started.
func closeShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.enabled = false
	if shared.pg != nil {
		if err := shared.pg.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: remove the shared PostgreSQL: %v\n", err)
		}
		shared.pg = nil
	}
}

// PG returns a PostgreSQL server for t, from the first source that works:
// WALRELAY_TEST_PG_DSN, Docker (probed only), local binaries (devenv). It
// skips t when none is available, naming each source and what was missing,
// and fails t when a source exists but does not work (unreachable DSN,
// initdb failure).
func PG(t testing.TB) *Postgres {
	t.Helper()
	if dsn := os.Getenv(EnvPGDSN); dsn != "" {
		envPGCheck.once.Do(func() { envPGCheck.err = ping(dsn) })
		if envPGCheck.err != nil {
			t.Fatalf("testenv: %s=%s is set but unusable: %v", EnvPGDSN, redact(dsn), envPGCheck.err)
		}
		return &Postgres{dsn: dsn, source: EnvPGDSN}
	}
	noteDocker(t)
	shared.mu.Lock()
	enabled := shared.enabled
	shared.mu.Unlock()
	if !enabled {
		t.Log("testenv: no TestMain calling testenv.Main: starting a private PostgreSQL for this test")
		return PrivatePG(t)
	}
	return sharedPG(t)
}

// PrivatePG starts a throwaway cluster for t alone, removed at t's cleanup.
// Use it for tests that stop or restart PostgreSQL (p.Devenv() is never
// nil). It skips t when the local PostgreSQL binaries are missing.
func PrivatePG(t testing.TB) *Postgres {
	t.Helper()
	dev := startDevenv(t)
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Errorf("testenv: remove private PostgreSQL: %v", err)
		}
	})
	return &Postgres{dsn: dev.DSN("postgres"), source: "devenv (private)", dev: dev}
}

// sharedPG returns the binary's shared cluster, starting it on first use
// and starting it again if a test left it stopped.
func sharedPG(t testing.TB) *Postgres {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.pg == nil {
		shared.pg = startDevenv(t)
	}
	if !shared.pg.Running() {
		if err := shared.pg.Start(); err != nil {
			t.Fatalf("testenv: restart the shared PostgreSQL a test left stopped: %v", err)
		}
	}
	return &Postgres{dsn: shared.pg.DSN("postgres"), source: "devenv (shared)", dev: shared.pg}
}

// startDevenv starts a cluster from local binaries, or skips t when they are
// missing, or fails t when they exist but the cluster does not start.
func startDevenv(t testing.TB) *devenv.Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := devenv.StartPostgres(ctx, devenv.PGOptions{
		Settings: map[string]string{"max_connections": "200"},
	})
	if errors.Is(err, devenv.ErrNoPostgresBinaries) {
		if os.Getenv(EnvPGDSN) != "" { // PrivatePG: only local binaries will do
			t.Skipf("testenv: this test needs a private, restartable PostgreSQL from local binaries: %v", err)
		}
		_, dockerWhy := dockerStatus()
		if dockerWhy == "" {
			dockerWhy = "engine healthy, but testenv has no container path built in"
		}
		t.Skipf("testenv: no PostgreSQL for this test: %s is unset; Docker: %s; local binaries: %v",
			EnvPGDSN, dockerWhy, err)
	}
	if err != nil {
		t.Fatalf("testenv: start a throwaway PostgreSQL from local binaries: %v", err)
	}
	return dev
}

// noteDocker logs once per test that a healthy Docker engine is not used.
func noteDocker(t testing.TB) {
	if healthy, _ := dockerStatus(); healthy {
		t.Log("testenv: Docker is healthy but testenv has no testcontainers path; using local PostgreSQL binaries")
	}
}

// ping connects to dsn and checks wal_level=logical, within 15 s.
func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var level string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return err
	}
	if level != "logical" {
		return fmt.Errorf("wal_level is %q, logical replication needs wal_level=logical", level)
	}
	return nil
}
