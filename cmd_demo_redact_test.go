package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoHidesPassword: `walrelay demo --dsn` with a DSN it cannot use
// says so without the password, in every spelling the audit tried (a
// key=value DSN, a password in a URL's query, an unencoded '@' in a URL's
// password); the demo used to hide only a URL's user information.
func TestDemoHidesPassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"host=127.0.0.1 port=1 user=pwuser password=WrongDemo99 connect_timeout=2",
		"host=127.0.0.1 port=1 user=pwuser password = 'Wrong Demo99' connect_timeout=2",
		"postgres://pwuser@127.0.0.1:1/db?sslmode=disable&password=WrongDemo99&connect_timeout=2",
		"postgres://pwuser:Wrong@Demo99@127.0.0.1:1/db?connect_timeout=2",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := runDemo(ctx, &demoServices{dsn: dsn}, func(string, ...any) {}, nil)
		cancel()
		if err == nil {
			t.Fatalf("%s: the demo ran", dsn)
		}
		if msg := err.Error(); strings.Contains(msg, "Demo99") {
			t.Errorf("the demo's error shows the password: %s", msg)
		}
	}
}
