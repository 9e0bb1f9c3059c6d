package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/pipeline"
)

// cmdSnapshot implements `walrelay snapshot --config FILE TABLE...`: it
// writes a snapshot signal (pipeline.SnapshotSignalPrefix) into the WAL.
// When walrelay's stream reaches it (at once if walrelay runs, else at its
// next start), walrelay publishes the tables' rows again as read events,
// then exactly their later changes.
func cmdSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	flags.SetOutput(stderr)
	file := flags.String("config", "", "config file (YAML); WALRELAY_* variables override it")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: walrelay snapshot --config FILE schema.table [schema.table ...]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	tables := flags.Args()
	if len(tables) == 0 {
		flags.Usage()
		return errors.New("snapshot: name the tables to snapshot, as schema.table")
	}
	for _, t := range tables {
		if s, tb, ok := strings.Cut(t, "."); !ok || s == "" || tb == "" {
			return fmt.Errorf("snapshot: %q is not schema.table", t)
		}
	}
	return withConfigDB(ctx, *file, func(ctx context.Context, _ *config.Config, db *pgx.Conn) error {
		lsn, err := pipeline.EmitSnapshotSignal(ctx, db, tables)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "snapshot signal for %s written at %s: walrelay snapshots them when its stream reaches it "+
			"(walrelay status shows the catch-up)\n", strings.Join(tables, ", "), lsn)
		return nil
	})
}
