package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/replication"
	"github.com/walrelay/walrelay/sink"
)

// errCheckFailed makes `walrelay check` exit non-zero after it printed its findings.
var errCheckFailed = errors.New("check found problems (see above)")

// cmdCheck implements `walrelay check`: one line per finding, each problem
// with the SQL or setting that fixes it.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "config file (YAML); WALRELAY_* variables override it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*file, os.Environ())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var findings []replication.Finding
	for _, w := range cfg.Warnings() { // valid settings that do not do what they seem to
		findings = append(findings, replication.Finding{Warn: true, What: w.What, Fix: w.Fix})
	}
	findings = append(findings, checkPostgres(ctx, cfg)...)
	findings = append(findings, checkKafka(ctx, cfg)...)
	findings = append(findings, checkRegistry(ctx, cfg)...)
	failed := 0
	for _, f := range findings {
		if f.OK {
			fmt.Fprintf(stdout, "ok    %s\n", f.What)
			continue
		}
		if f.Warn {
			fmt.Fprintf(stdout, "warn  %s\n      fix: %s\n", f.What, f.Fix)
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL  %s\n      fix: %s\n", f.What, f.Fix)
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d problem(s)", errCheckFailed, failed)
	}
	fmt.Fprintln(stdout, "walrelay can stream with this configuration.")
	return nil
}

// checkKafka runs the Kafka findings; TLS files that cannot be loaded are
// one finding.
func checkKafka(ctx context.Context, cfg *config.Config) []replication.Finding {
	sc, err := pipeline.SinkConfig(cfg)
	if err != nil {
		return []replication.Finding{{What: err.Error(),
			Fix: "point kafka.tls.ca_file, cert_file and key_file at readable PEM files (a CA bundle, a client certificate and its key)"}}
	}
	var findings []replication.Finding
	for _, r := range sink.Check(ctx, sc, cfg.TopicPrefix+".walrelay_check") {
		findings = append(findings, replication.Finding{OK: r.OK, Warn: r.Warn, What: r.What, Fix: r.Fix})
	}
	return findings
}

// checkPostgres runs the Postgres findings, turning connection failures into findings.
func checkPostgres(ctx context.Context, cfg *config.Config) []replication.Finding {
	db, err := replication.ConnectSQL(ctx, cfg.Postgres.DSN)
	if err != nil {
		return []replication.Finding{{What: err.Error(), Fix: "check postgres.dsn, the server, and pg_hba.conf"}}
	}
	defer db.Close(context.Background())
	findings, captured := checkRules(ctx, db, cfg)
	if cfg.Rules == "" {
		captured = cfg.Postgres.Tables
	}
	more, err := replication.CheckPrerequisites(ctx, db, replication.CheckOptions{
		Slot: cfg.Postgres.Slot, Publication: cfg.Postgres.Publication, Tables: captured,
		NoTables: cfg.Rules != "" && len(captured) == 0,
		Managed:  cfg.Rules == "" || cfg.Publication.ManageEnabled(),
		Rules:    cfg.Rules != "",
		Renamed:  renamedTables(ctx, db, cfg), Standby: cfg.Postgres.Standby})
	findings = append(findings, more...)
	findings = append(findings, checkPGAccess(ctx, db, captured)...) // cmd_check_pgaccess.go
	findings = append(findings, checkTopics(ctx, db, cfg, captured)...)
	if err != nil {
		findings = append(findings, replication.Finding{What: err.Error(), Fix: "check the role's privileges"})
	}
	findings = append(findings, checkCheckpoint(ctx, db, cfg)...)
	repl, err := replication.ConnectReplication(ctx, cfg.Postgres.DSN)
	if err != nil {
		return append(findings, replication.Finding{What: "replication connection refused: " + err.Error(),
			Fix: "allow the role to replicate (ALTER ROLE ... REPLICATION) and permit it in pg_hba.conf"})
	}
	_ = repl.Close(ctx)
	return append(findings, replication.Finding{OK: true, What: "replication connection accepted"})
}

// checkCheckpoint opens the configured checkpoint store read-only (it
// creates nothing), says whether `walrelay run` will be able to create and
// write it (checkStoreWritable), and compares the stored checkpoint with the
// slot: a slot that is missing or ahead of it is the gap run refuses to
// start over (replication.Gap), unless snapshot.mode re-snapshots the
// captured tables on start.
func checkCheckpoint(ctx context.Context, db *pgx.Conn, cfg *config.Config) []replication.Finding {
	store, err := pipeline.OpenStore(ctx, cfg, false)
	if err != nil {
		return []replication.Finding{{What: "checkpoint store: " + err.Error(), Fix: storeFix(ctx, db, cfg, err)}}
	}
	defer store.Close()
	pos, found, err := store.Load(ctx)
	if err != nil {
		return []replication.Finding{{What: "checkpoint store: " + err.Error(), Fix: storeFix(ctx, db, cfg, err)}}
	}
	findings := checkStoreWritable(ctx, db, cfg)
	if !found {
		return append(findings, replication.Finding{OK: true, What: fmt.Sprintf("checkpoint store %s: no checkpoint stored yet", cfg.Checkpoint.Store)})
	}
	if err := pipeline.CheckStored(ctx, db, cfg, pos); err != nil { // not from this server's history
		return append(findings, replication.Finding{What: "checkpoint store: " + err.Error(),
			Fix: "move the stored checkpoint aside, as the line above says"})
	}
	return append(findings, checkGap(ctx, db, cfg, pos)...)
}

// checkGap compares the stored checkpoint pos with the slot.
func checkGap(ctx context.Context, db *pgx.Conn, cfg *config.Config, pos checkpoint.Position) []replication.Finding {
	slot, err := replication.LookupSlot(ctx, db, cfg.Postgres.Slot)
	if err != nil {
		return []replication.Finding{{What: err.Error(), Fix: "check the role's privileges"}}
	}
	what, gap := replication.Gap(slot, cfg.Postgres.Slot, pos.LSN)
	switch {
	case !gap:
		return []replication.Finding{{OK: true, What: fmt.Sprintf("checkpoint store %s: checkpoint %s stored", cfg.Checkpoint.Store, pos.LSN)}}
	case resnapshotsOnGap(cfg):
		return []replication.Finding{{OK: true, What: fmt.Sprintf("%s; snapshot.mode %s re-snapshots the captured tables on start",
			what, cfg.Snapshot.Mode)}}
	}
	return []replication.Finding{{What: what, Fix: replication.GapFix}}
}

// resnapshotsOnGap reports whether `walrelay run` accepts a gap on its own
// because it snapshots the captured tables first (pipeline's decideSnapshot).
func resnapshotsOnGap(cfg *config.Config) bool {
	return cfg.Snapshot.Mode == config.SnapshotWhenNeeded || cfg.Snapshot.Mode == config.SnapshotAlways
}

// storeFix is the fix for a checkpoint store that cannot be opened or read.
func storeFix(ctx context.Context, db *pgx.Conn, cfg *config.Config, err error) string {
	if errors.Is(err, checkpoint.ErrCorrupt) {
		return checkpoint.CorruptFix(pipeline.StoredWhere(cfg))
	}
	if errors.Is(err, checkpoint.ErrOtherSlot) {
		return "set postgres.slot to the slot the file names, or give each slot its own data_dir"
	}
	if cfg.Checkpoint.Store != "postgres" {
		return fmt.Sprintf("make data_dir %s a directory the user running walrelay may write, holding a valid checkpoint file or none", cfg.DataDir)
	}
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == "42501":
		var role string
		if db.QueryRow(ctx, "SELECT current_user::text").Scan(&role) != nil {
			role = "<walrelay role>"
		}
		role = pgx.Identifier{role}.Sanitize()
		return fmt.Sprintf("as the owner of %s: GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT, INSERT, UPDATE ON %s TO %s; "+
			"(or set checkpoint.store: file)", checkpoint.TableName, checkpoint.Schema, role, checkpoint.TableName, role)
	case errors.As(err, &pe) && pe.Code == "25006":
		return "point postgres.dsn at the primary, or set checkpoint.store: file"
	}
	return "check postgres.dsn and the role's privileges on " + checkpoint.TableName + ", or set checkpoint.store: file"
}
