package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/replication"
)

// cmdStatus implements `walrelay status`: the slot, the stored checkpoint,
// lag and retained WAL, and what a running walrelay last reported.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("status", flag.ContinueOnError)
	flags.SetOutput(stderr)
	file := flags.String("config", "", "config file (YAML); WALRELAY_* variables override it")
	if err := flags.Parse(args); err != nil {
		return err
	}
	return withConfigDB(ctx, *file, func(ctx context.Context, cfg *config.Config, db *pgx.Conn) error {
		return printStatus(ctx, stdout, cfg, db)
	})
}

// printStatus writes the status table. The stored checkpoint is loaded
// first, so the slot lines can say whether a missing or advanced slot is a
// gap; an error of the store is returned after the slot lines.
func printStatus(ctx context.Context, stdout io.Writer, cfg *config.Config, db *pgx.Conn) error {
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	var stored checkpoint.Position
	var found bool
	store, storeErr := pipeline.OpenStore(ctx, cfg, false)
	if storeErr == nil {
		defer store.Close()
		stored, found, storeErr = store.Load(ctx)
	}
	if err := printSlot(ctx, w, db, cfg, stored, found); err != nil {
		return err
	}
	if storeErr != nil {
		return storeErr
	}
	printStored(w, cfg, stored, found)
	printRunning(w, cfg.DataDir)
	return nil
}

// printSlot writes the slot's lines; stored and found are the stored
// checkpoint, to tell a gap (replication.Gap) from a first start.
func printSlot(ctx context.Context, w io.Writer, db *pgx.Conn, cfg *config.Config, stored checkpoint.Position, found bool) error {
	slot := cfg.Postgres.Slot
	info, err := replication.LookupSlot(ctx, db, slot)
	if err != nil {
		return err
	}
	var current event.LSN
	var currentText string
	if err := db.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&currentText); err != nil {
		return fmt.Errorf("postgres: pg_current_wal_lsn: %w", err)
	}
	current, _ = pglogrepl.ParseLSN(currentText)
	fmt.Fprintf(w, "slot\t%s\n", slot)
	gap, isGap := "", false
	if found {
		gap, isGap = replication.Gap(info, slot, stored.LSN)
	}
	if !info.Exists {
		state := "missing (walrelay creates it on start)"
		if isGap {
			state = fmt.Sprintf("missing, but a checkpoint at %s is stored: a gap", stored.LSN)
		}
		fmt.Fprintf(w, "slot state\t%s\n", state)
		if isGap {
			fmt.Fprintf(w, "gap\t%s\n", gapText(cfg, gap))
		}
		return nil
	}
	state := "inactive"
	if info.Active {
		state = fmt.Sprintf("active (pid %d)", info.ActivePID)
	}
	if info.Invalidated() {
		state = "invalidated: " + info.Invalidation(slot)
	}
	fmt.Fprintf(w, "slot state\t%s\n", state)
	if isGap {
		fmt.Fprintf(w, "gap\t%s\n", gapText(cfg, gap))
	}
	if info.WALStatus != "" {
		fmt.Fprintf(w, "wal_status\t%s\n", info.WALStatus)
	}
	fmt.Fprintf(w, "confirmed_flush_lsn\t%s\n", info.ConfirmedFlush)
	fmt.Fprintf(w, "server WAL position\t%s\n", current)
	fmt.Fprintf(w, "lag\t%s\n", bytesText(current, info.ConfirmedFlush))
	fmt.Fprintf(w, "retained WAL\t%s (since restart_lsn %s)\n", bytesText(current, info.RestartLSN), info.RestartLSN)
	return nil
}

// gapText says what `walrelay run` does about a gap: it re-snapshots when
// snapshot.mode says so, and refuses to start otherwise.
func gapText(cfg *config.Config, what string) string {
	if resnapshotsOnGap(cfg) {
		return fmt.Sprintf("%s; snapshot.mode %s re-snapshots the captured tables on start", what, cfg.Snapshot.Mode)
	}
	return fmt.Sprintf("%s; walrelay run refuses to start (%s)", what, replication.GapFix)
}

// printStored writes the stored checkpoint's lines.
func printStored(w io.Writer, cfg *config.Config, pos checkpoint.Position, found bool) {
	if !found {
		fmt.Fprintf(w, "stored checkpoint\tnone (%s store)\n", cfg.Checkpoint.Store)
		return
	}
	fmt.Fprintf(w, "stored checkpoint\t%s (%s store, saved %s ago)\n", pos.LSN, cfg.Checkpoint.Store,
		time.Since(pos.UpdatedAt).Round(time.Second))
	if cu := pos.Catchup; cu != nil {
		state := "snapshot to take (incrementally while streaming, or at the next start)"
		switch {
		case cu.Boundary != 0:
			state = fmt.Sprintf("snapshot in Kafka; their changes before %s are left out until the stream passes it", cu.Boundary)
		case cu.Current != "":
			state = fmt.Sprintf("incremental snapshot in Kafka up to %s key (%s)", cu.Current, strings.Join(cu.After, ", "))
		}
		fmt.Fprintf(w, "catch-up\t%s: %s\n", strings.Join(cu.Tables, ", "), state)
	}
}

// printRunning shows what the running process last wrote to its status file.
func printRunning(w io.Writer, dataDir string) {
	st, err := pipeline.ReadStatus(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "process\tno status file in %s (walrelay has not run there)\n", dataDir)
		return
	}
	if err != nil {
		fmt.Fprintf(w, "process\t%v\n", err)
		return
	}
	age := time.Since(st.UpdatedAt).Round(time.Second)
	fmt.Fprintf(w, "process\tpid %d, last report %s ago, %d events published, %d in flight\n", st.PID, age, st.Events, st.InflightEvents)
	if sn := st.Snapshot; sn != nil {
		fmt.Fprintf(w, "snapshot\t%s (%s): %d of %d rows, %.0f rows/s, ETA %s\n", sn.State, sn.Reason,
			sn.RowsDone, sn.RowsTotal, sn.RowsPerSecond, (time.Duration(sn.ETASeconds) * time.Second).Round(time.Second))
		for _, t := range sn.Tables {
			fmt.Fprintf(w, "  %s\t%s: %d of %d rows (estimated %d), %.0f rows/s\n", t.Table, t.State,
				t.RowsDone, t.RowsTotal, t.RowsEstimated, t.RowsPerSecond)
		}
	}
	if st.CommitLagMS != nil {
		fmt.Fprintf(w, "commit to Kafka	%.3f s for the newest transaction (acknowledged %s), longest since the report before: %.3f s\n",
			float64(*st.CommitLagMS)/1000, st.CommitLagAt.Format(time.RFC3339), float64(*st.CommitLagMaxMS)/1000)
	}
	if st.HeartbeatLagMS != nil {
		fmt.Fprintf(w, "end-to-end lag\t%.3f s (heartbeat of %s)\n", float64(*st.HeartbeatLagMS)/1000, st.HeartbeatAt.Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "end-to-end lag\tunknown (set heartbeat.interval to measure it)\n")
	}
}

func bytesText(a, b event.LSN) string {
	if a <= b {
		return "0 bytes"
	}
	return fmt.Sprintf("%d bytes", uint64(a-b))
}
