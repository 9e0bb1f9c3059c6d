package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

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
	findings := append(checkPostgres(ctx, cfg), checkKafka(ctx, cfg)...)
	failed := 0
	for _, f := range findings {
		if f.OK {
			fmt.Fprintf(stdout, "ok    %s\n", f.What)
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
		findings = append(findings, replication.Finding(r))
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
		NoTables: cfg.Rules != "" && len(captured) == 0})
	findings = append(findings, more...)
	if err != nil {
		findings = append(findings, replication.Finding{What: err.Error(), Fix: "check the role's privileges"})
	}
	repl, err := replication.ConnectReplication(ctx, cfg.Postgres.DSN)
	if err != nil {
		return append(findings, replication.Finding{What: "replication connection refused: " + err.Error(),
			Fix: "allow the role to replicate (ALTER ROLE ... REPLICATION) and permit it in pg_hba.conf"})
	}
	_ = repl.Close(ctx)
	return append(findings, replication.Finding{OK: true, What: "replication connection accepted"})
}
