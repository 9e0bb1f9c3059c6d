// Command walrelay streams PostgreSQL row changes into Kafka through logical
// replication. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...". It is
// also every event's source.version. `walrelay version` adds the commit the
// binary was built from, when Go recorded it (version.go).
var version = "0.1.0-dev"

const usage = `walrelay streams PostgreSQL changes into Kafka.

Usage:
  walrelay run --config FILE [--allow-gap] [--replay-from LSN]
                                             stream changes
  walrelay check --config FILE               check Postgres and Kafka prerequisites, with fixes
  walrelay status --config FILE              slot, checkpoint, lag and retained WAL
  walrelay snapshot --config FILE TABLE...   publish these tables' rows again (schema.table), then their changes
  walrelay demo [--dsn DSN --brokers LIST]   show walrelay at work on throwaway services
  walrelay version                           print the version and the commit it was built from

Every config key can also be set as WALRELAY_<SECTION>_<KEY>, e.g. WALRELAY_POSTGRES_DSN.
`

func main() {
	notifySIGPIPE()
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// notifySIGPIPE makes a write to a closed stdout or stderr fail with EPIPE
// instead of killing the process: os/signal's documented behaviour once
// SIGPIPE is passed to Notify. Without it, `walrelay run ... | tee log`
// stopped with Ctrl-C (the terminal's SIGINT ends tee too) died of SIGPIPE
// (exit 141) at its first shutdown log line, before the drain, the final
// checkpoint and the "stopped" line. Log lines that cannot be written are
// lost; the shutdown and its exit code are not. The channel is never read:
// Notify does not block on a full one.
func notifySIGPIPE() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// realMain runs one command and returns the process exit code.
func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stderr)
	case "check":
		err = cmdCheck(ctx, args[1:], stdout, stderr)
	case "status":
		err = cmdStatus(ctx, args[1:], stdout, stderr)
	case "snapshot":
		err = cmdSnapshot(ctx, args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine())
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "walrelay: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var logged loggedError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &logged):
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "walrelay: %v\n", err)
		return 1
	}
	return 0
}
