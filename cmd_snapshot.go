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
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/pipeline"
)

// cmdSnapshot implements `walrelay snapshot --config FILE TABLE...`: it
// writes a snapshot signal (pipeline.SnapshotSignalPrefix) for the config's
// postgres.slot into the WAL. When the stream of the walrelay using that
// slot reaches it (at once if it runs, else at its next start), it
// publishes the tables' rows again as read events, then exactly their later
// changes; other walrelays on the database ignore it. Tables the config
// does not capture are refused: nothing is written.
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
	for i, t := range tables {
		name, err := pgident.Normalize(t) // the spelling walrelay compares names in
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		tables[i] = name
	}
	return withConfigDB(ctx, *file, func(ctx context.Context, cfg *config.Config, db *pgx.Conn) error {
		if err := requireCaptured(ctx, *file, cfg, db, tables); err != nil {
			return err
		}
		lsn, err := pipeline.EmitSnapshotSignal(ctx, db, cfg.Postgres.Slot, tables)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "snapshot signal for %s written at %s for slot %s: the walrelay streaming from that slot "+
			"snapshots them when its stream reaches it (walrelay status shows the catch-up)\n",
			strings.Join(tables, ", "), lsn, cfg.Postgres.Slot)
		return nil
	})
}

// requireCaptured refuses tables that the walrelay of cfg (loaded from
// file) does not capture (pipeline.CapturedTables): its signal would be
// ignored.
func requireCaptured(ctx context.Context, file string, cfg *config.Config, db *pgx.Conn, tables []string) error {
	var rules *filter.Rules
	from := "postgres.tables"
	if cfg.Rules != "" {
		var err error
		if rules, err = filter.Load(cfg.Rules, cfg.MaskSalt); err != nil {
			return fmt.Errorf("snapshot: rules file %s: %w", cfg.Rules, err)
		}
		from = "the rules file " + cfg.Rules
	}
	if pipeline.PublicationDecides(cfg) {
		from += " and publication " + cfg.Postgres.Publication
		if cfg.Rules == "" {
			from = "publication " + cfg.Postgres.Publication
		}
	}
	if file == "" {
		file = "the WALRELAY_* settings"
	}
	_, other, err := pipeline.CapturedTables(ctx, cfg, rules, db, tables)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if len(other) > 0 {
		return fmt.Errorf("snapshot: %s not captured by the walrelay of %s (slot %s, tables from %s); nothing was written. "+
			"Fix: name only tables that config captures, or pass the --config of the walrelay that captures them",
			strings.Join(other, ", "), file, cfg.Postgres.Slot, from)
	}
	return nil
}
