package replication

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnectTimesOutOnSilentHost: a host that accepts TCP and never answers
// (a frozen proxy, a hung server) fails a connection attempt after
// DefaultConnectTimeout when postgres.dsn sets no connect_timeout, with the
// usual one-line error, instead of hanging start-up and reconnects for ever
// (ops audit D3: walrelay run and check hung with nothing printed).
func TestConnectTimesOutOnSilentHost(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // hold it open, say nothing
		}
	}()
	dsn := "postgres://u@" + ln.Addr().String() + "/db?sslmode=disable"
	for name, connect := range map[string]func(context.Context) error{
		"replication": func(ctx context.Context) error { _, err := ConnectReplication(ctx, dsn); return err },
		"sql":         func(ctx context.Context) error { _, err := ConnectSQL(ctx, dsn); return err },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*DefaultConnectTimeout)
			defer cancel()
			start := time.Now()
			err := connect(ctx)
			took := time.Since(start)
			if err == nil {
				t.Fatal("connected to a silent host")
			}
			if ctx.Err() != nil || took > DefaultConnectTimeout+5*time.Second {
				t.Fatalf("gave up after %v, want about %v", took, DefaultConnectTimeout)
			}
			if !strings.Contains(err.Error(), "cannot connect to "+ln.Addr().String()) {
				t.Errorf("error %q does not name the address", err)
			}
		})
	}
}
