package pipeline

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
)

// refusedDSN returns a DSN whose server refuses connections: a local port
// nothing listens on.
func refusedDSN(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "postgres://walrelay@" + addr + "/db?connect_timeout=5&sslmode=disable"
}

// setupConfig is a config whose session setup connects to dsn first, with
// the checkpoint store store.
func setupConfig(t *testing.T, dsn, store string) *config.Config {
	cfg := &config.Config{DataDir: t.TempDir()}
	cfg.Postgres.DSN, cfg.Postgres.Slot, cfg.Checkpoint.Store = dsn, "pgprefix_slot", store
	return cfg
}

// TestSetupHaltPostgresGone (auditc8 M1): while PostgreSQL is down, the
// sessions Run restarts fail to connect in their setup; their "pipeline
// halted" lines say first that PostgreSQL went away, as the first halt of
// the outage does, with either checkpoint store, and keep the error and its
// hint. The halt stays a restart (not fatal). Before the first session
// streamed, the same refusal is returned as it is (exit 1, "check
// postgres.dsn"): it is as likely a wrong DSN as a server down.
func TestSetupHaltPostgresGone(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"file", "postgres"} {
		s := newSession(Options{Config: setupConfig(t, refusedDSN(t), store), Log: zerolog.Nop()}, &runState{})
		err := s.setup(context.Background())
		s.close()
		if err == nil {
			t.Fatalf("%s store: setup against a closed port succeeded", store)
		}
		if IsFatal(err) {
			t.Errorf("%s store: refused connection is fatal: %v", store, err)
		}
		got := haltError(s, err)
		t.Logf("%s store: %v", store, got)
		if !strings.HasPrefix(got.Error(), "PostgreSQL went away (it does not accept connections") ||
			!strings.HasSuffix(got.Error(), err.Error()) || !errors.Is(got, err) || IsFatal(got) {
			t.Errorf("%s store: halt after a refused connect reads %q", store, got)
		}
		first := Run(context.Background(), Options{Config: setupConfig(t, refusedDSN(t), store), Log: zerolog.Nop()})
		var gone *postgresGoneError
		if first == nil || errors.As(first, &gone) || IsFatal(first) {
			t.Errorf("%s store: first start against a closed port returned %v, want the connect error as it is", store, first)
		}
	}
}

// TestSetupHaltAnswerNotGone: a server that answers the connection attempt
// with an error of its own (a database that does not exist) did not go
// away: the halt is left as it was, with either checkpoint store.
func TestSetupHaltAnswerNotGone(t *testing.T) {
	dsn := os.Getenv("WALRELAY_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("WALRELAY_TEST_PG_DSN not set")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("WALRELAY_TEST_PG_DSN is not a URL: %v", err)
	}
	u.Path = "/pgprefix_no_such_db" // nothing is created: the server refuses the start-up
	for _, store := range []string{"file", "postgres"} {
		s := newSession(Options{Config: setupConfig(t, u.String(), store), Log: zerolog.Nop()}, &runState{})
		err := s.setup(context.Background())
		s.close()
		if err == nil || !strings.Contains(err.Error(), "pgprefix_no_such_db") {
			t.Fatalf("%s store: setup on a missing database: %v", store, err)
		}
		var gone *postgresGoneError
		got := haltError(s, err)
		t.Logf("%s store: %v", store, got)
		if errors.As(got, &gone) {
			t.Errorf("%s store: a server's answer reads as PostgreSQL gone: %q", store, got)
		}
	}
}
