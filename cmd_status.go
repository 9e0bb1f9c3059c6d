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
// gap; an error of the store is returned after the slot lines. The store is
// opened read-only: status creates nothing (no data_dir, no checkpoint
// table), and a missing one is no stored checkpoint.
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
	if storeErr == nil && found { // a checkpoint not from this server's history is refused as run refuses it
		storeErr = pipeline.CheckStored(ctx, db, cfg, stored)
	}
	if err := printSlot(ctx, w, db, cfg, stored, found, storeErr != nil); err != nil {
		return err
	}
	if storeErr != nil {
		return storeErr
	}
	printStored(w, cfg, stored, found)
	printRunning(w, cfg.DataDir, time.Now())
	return nil
}

// printSlot writes the slot's lines; stored and found are the stored
// checkpoint, to tell a gap (replication.Gap) from a first start. unread
// is set when the store could not be read (its error follows the lines):
// the lag then says so rather than that nothing is stored.
func printSlot(ctx context.Context, w io.Writer, db *pgx.Conn, cfg *config.Config, stored checkpoint.Position, found,
	unread bool) error {
	slot := cfg.Postgres.Slot
	info, err := replication.LookupSlot(ctx, db, slot)
	if err != nil {
		return err
	}
	current, err := pipeline.ServerWALPosition(ctx, db)
	if err != nil {
		return err
	}
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
	printPositions(w, info, current, stored, found, unread)
	return nil
}

// printPositions writes the slot's positions, the lag and the WAL the slot
// retains. A slot being created (walrelay waits for the transactions open
// when it began) has no confirmed position yet, and PostgreSQL reports it
// as NULL: there is no lag to show then, and the server's whole position
// would be a bogus one.
func printPositions(w io.Writer, info replication.SlotInfo, current event.LSN, stored checkpoint.Position, found, unread bool) {
	if info.ConfirmedFlush == 0 {
		fmt.Fprintf(w, "confirmed_flush_lsn\tnone yet: the slot is being created\n")
		fmt.Fprintf(w, "server WAL position\t%s\n", current)
		fmt.Fprintf(w, "lag\tnone yet: the slot is being created (PostgreSQL waits for the transactions open when "+
			"walrelay began to create it; walrelay's log names them)\n")
		return
	}
	fmt.Fprintf(w, "confirmed_flush_lsn\t%s\n", info.ConfirmedFlush)
	fmt.Fprintf(w, "server WAL position\t%s\n", current)
	lag := lagText(current, info.ConfirmedFlush, stored, found)
	if unread {
		lag = unreadLagText(current, info.ConfirmedFlush)
	}
	fmt.Fprintf(w, "lag\t%s\n", lag)
	fmt.Fprintf(w, "retained WAL\t%s (since restart_lsn %s)\n", bytesText(current, info.RestartLSN), info.RestartLSN)
}

// lagText is the lag as walrelay_lag_bytes measures it: the server's WAL
// position minus the stored checkpoint, the backlog walrelay has still to
// publish (checkpoint.retain keeps the slot's confirmed position behind it
// on purpose; "retained WAL" shows that). Before the first checkpoint it is
// measured from the slot's confirmed position.
func lagText(current, confirmed event.LSN, stored checkpoint.Position, found bool) string {
	if !found {
		return bytesText(current, confirmed) + " (server WAL position minus the slot's confirmed_flush_lsn; no checkpoint is stored)"
	}
	return bytesText(current, stored.LSN) + " (server WAL position minus the stored checkpoint)"
}

// unreadLagText is the lag when the checkpoint store could not be read
// (a missing privilege, say): measured from the slot's confirmed position,
// without claiming that no checkpoint is stored.
func unreadLagText(current, confirmed event.LSN) string {
	return bytesText(current, confirmed) + " (server WAL position minus the slot's confirmed_flush_lsn; the stored " +
		"checkpoint could not be read: see the error below)"
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
			state = fmt.Sprintf("incremental snapshot in Kafka up to %s key %s", cu.Current,
				cursorText(statusCursor(cfg, cu.Current, cu.After)))
		}
		fmt.Fprintf(w, "catch-up\t%s: %s\n", strings.Join(cu.Tables, ", "), state)
	}
}

// printRunning shows what the walrelay of dataDir last wrote to its status
// file, and whether that process still runs (pipeline.StatusProcess): the
// figures of a process that is gone, or that a new one replaced, are shown
// as its last ones, never as current, and so are those of a stale report.
func printRunning(w io.Writer, dataDir string, now time.Time) {
	st, err := pipeline.ReadStatus(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		if state, holder := pipeline.StatusProcess(dataDir, 0); state == pipeline.ProcessReplaced {
			fmt.Fprintf(w, "process\t%s runs and has not reported yet (no status file in %s)\n", holderText(holder), dataDir)
			return
		}
		fmt.Fprintf(w, "process\tno status file in %s (walrelay has not run there)\n", dataDir)
		return
	}
	if err != nil {
		fmt.Fprintf(w, "process\t%v\n", err)
		return
	}
	state, holder := pipeline.StatusProcess(dataDir, st.PID)
	alive := state == pipeline.ProcessRunning || state == pipeline.ProcessUnknown
	current := alive && !st.Stale(now)
	fmt.Fprintf(w, "process\t%s\n", processText(st, state, holder, now))
	printHalts(w, st, alive, now)
	if sw := st.SlotWait; sw != nil {
		printSlotWait(w, sw, current, st.UpdatedAt, now)
	}
	if sn := st.Snapshot; sn != nil {
		printSnapshot(w, sn, alive)
	}
	printLags(w, st, current, now)
}

// processText is the process line: which process wrote the report, whether
// it still runs, and the report's age and counts.
func processText(st pipeline.Status, state pipeline.ProcessState, holder int, now time.Time) string {
	age := now.Sub(st.UpdatedAt).Round(time.Second)
	counts := fmt.Sprintf("%d events published, %d in flight", st.Events, st.InflightEvents)
	switch state {
	case pipeline.ProcessStopped:
		return fmt.Sprintf("pid %d is not running (it stopped, was killed or crashed); its last report, %s ago: %s",
			st.PID, age, counts)
	case pipeline.ProcessReplaced:
		return fmt.Sprintf("%s runs and has not reported yet; the last report is from pid %d, which is not running (%s ago: %s)",
			holderText(holder), st.PID, age, counts)
	case pipeline.ProcessUnknown:
		return fmt.Sprintf("pid %d (whether it still runs cannot be checked on this system), last report %s ago, %s",
			st.PID, age, counts)
	}
	if st.Stale(now) {
		return fmt.Sprintf("pid %d, running, but its last report is %s old (stale: a running walrelay reports every %s; "+
			"it is restarting its pipeline or stuck, see its log): %s", st.PID, age, pipeline.ReportEvery, counts)
	}
	return fmt.Sprintf("pid %d, running, last report %s ago, %s", st.PID, age, counts)
}

// printHalts shows the pipeline's halts the report counts, if any: while
// it waits to restart from the checkpoint, the error and when the restart is
// due; while a restarted session sets up, or streams again, the last error.
// A pipeline that halts each time soon after it starts shows as restarting
// or streaming with a growing count. For a process that is gone, it is its
// last halt.
func printHalts(w io.Writer, st pipeline.Status, alive bool, now time.Time) {
	if st.Halts == 0 {
		return
	}
	ago := now.Sub(st.LastErrorAt).Round(time.Second)
	count := fmt.Sprintf("%d halt(s) since the process started", st.Halts)
	switch {
	case !alive:
		fmt.Fprintf(w, "last halt\t%s before its last report (%s): %s\n",
			st.UpdatedAt.Sub(st.LastErrorAt).Round(time.Second), count, st.LastError)
	case st.State == pipeline.StateRestarting:
		when := "now"
		if d := st.RestartAt.Sub(now); d > 0 {
			when = "in " + d.Round(time.Second).String()
		}
		fmt.Fprintf(w, "pipeline\thalted %s ago, restarting from the checkpoint %s (%s): %s\n", ago, when, count,
			st.LastError)
	case st.State == pipeline.StateStarting:
		fmt.Fprintf(w, "pipeline\trestarting from the checkpoint after a halt %s ago (%s): %s\n", ago, count,
			st.LastError)
	default:
		fmt.Fprintf(w, "pipeline\tstreaming again; it halted %s ago and restarted (%s): %s\n", ago, count,
			st.LastError)
	}
}

// printSlotWait shows a replication slot creation that waits for the
// transactions open on the server (the report's process was setting up a
// session), and which ones, as its log's warning names them; a report
// that is not current shows how long it had waited then.
func printSlotWait(w io.Writer, sw *pipeline.SlotWaitStatus, current bool, updated, now time.Time) {
	waited := fmt.Sprintf("has waited %s", now.Sub(sw.Since).Round(time.Second))
	if !current {
		waited = fmt.Sprintf("had waited %s at the last report", updated.Sub(sw.Since).Round(time.Second))
	}
	what := "commit or roll them back, or end a forgotten session with SELECT pg_terminate_backend(pid)"
	switch {
	case sw.Error != "":
		what = "they could not be listed: " + sw.Error
	case len(sw.OpenTransactions) == 0:
		what = "none is visible to walrelay's role (another role's sessions show with pg_read_all_stats)"
	}
	fmt.Fprintf(w, "starting\tcreating replication slot %s %s for the transactions open on the server to end "+
		"(PostgreSQL cannot make the slot consistent before): %s\n", sw.Slot, waited, what)
	for _, x := range sw.OpenTransactions {
		fmt.Fprintf(w, "  waits for\t%s\n", x)
	}
}

// holderText names the process that holds the data directory now.
func holderText(pid int) string {
	if pid == 0 {
		return "another walrelay process (its pid is not visible here)"
	}
	return fmt.Sprintf("walrelay pid %d", pid)
}

// rateText is ", N rows/s", or "" when the rate is unknown (0: under a
// second of reading, or none yet).
func rateText(rowsPerSec float64) string {
	if rowsPerSec <= 0 {
		return ""
	}
	return fmt.Sprintf(", %.0f rows/s", rowsPerSec)
}

// printLags shows the commit-to-Kafka time and the end-to-end lag of the
// report; when it is not current (its process is gone, or the report is
// stale) they are labelled as its last measurements.
func printLags(w io.Writer, st pipeline.Status, current bool, now time.Time) {
	old := ""
	if !current {
		old = fmt.Sprintf(" [last measured by pid %d, not current]", st.PID)
	}
	if st.CommitLagMS != nil {
		fmt.Fprintf(w, "commit to Kafka\t%.3f s for the newest transaction (acknowledged %s), longest since the report before: %.3f s%s\n",
			float64(*st.CommitLagMS)/1000, st.CommitLagAt.Format(time.RFC3339), float64(*st.CommitLagMaxMS)/1000, old)
	}
	fmt.Fprintf(w, "end-to-end lag\t%s\n", heartbeatText(st, current, now, old))
}

// heartbeatText is the end-to-end lag the report's heartbeats measured.
// A heartbeat still waiting for Kafka's acknowledgement (Kafka down, the
// pipeline halted) makes it grow: while the pipeline is down nothing can
// acknowledge it, so a current report's wait is measured up to now; a
// streaming pipeline's may have been acknowledged since its report.
// Without a measurement it says whether heartbeats are off or none was
// acknowledged yet.
func heartbeatText(st pipeline.Status, current bool, now time.Time, old string) string {
	at := st.HeartbeatAt.Format(time.RFC3339)
	down := st.State == pipeline.StateRestarting || st.State == pipeline.StateStarting
	switch {
	case st.HeartbeatLagMS != nil && st.HeartbeatWaiting && current && down:
		// HeartbeatAt is then a heartbeat's emission or the first halt's
		// time (pipeline's runState.halted counts a halt as one).
		return fmt.Sprintf("at least %.3f s and growing: nothing emitted since %s is acknowledged by Kafka (the pipeline is down)",
			max(now.Sub(st.HeartbeatAt), 0).Seconds(), at)
	case st.HeartbeatLagMS != nil && st.HeartbeatWaiting && current:
		return fmt.Sprintf("%.3f s or more: the heartbeat of %s was not acknowledged by Kafka yet at the report %s ago",
			float64(*st.HeartbeatLagMS)/1000, at, now.Sub(st.UpdatedAt).Round(time.Second))
	case st.HeartbeatLagMS != nil && current:
		return fmt.Sprintf("%.3f s (heartbeat of %s)", float64(*st.HeartbeatLagMS)/1000, at)
	case st.HeartbeatLagMS != nil && st.HeartbeatWaiting:
		return fmt.Sprintf("unknown now; the heartbeat of %s was not acknowledged after %.3f s%s", at,
			float64(*st.HeartbeatLagMS)/1000, old)
	case st.HeartbeatLagMS != nil:
		return fmt.Sprintf("unknown now; %.3f s for the heartbeat of %s%s", float64(*st.HeartbeatLagMS)/1000, at, old)
	case !current:
		return "unknown (no current report of a running walrelay)"
	case st.HeartbeatIntervalMS > 0:
		return fmt.Sprintf("unknown: no heartbeat acknowledged yet (heartbeat.interval %s; the lag shows once "+
			"Kafka acknowledges one)", time.Duration(st.HeartbeatIntervalMS)*time.Millisecond)
	}
	return "unknown (set heartbeat.interval to measure it)"
}

func bytesText(a, b event.LSN) string {
	if a <= b {
		return "0 bytes"
	}
	return fmt.Sprintf("%d bytes", uint64(a-b))
}
