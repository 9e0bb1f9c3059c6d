package main

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/replication"
)

// renamedTables are the tables of postgres.tables (no rules file) that
// were renamed or moved since walrelay's last start
// (pipeline.RenamedListedTables; data_dir is only read). A failure to
// find them leaves them "does not exist": it only improves a message.
func renamedTables(ctx context.Context, db *pgx.Conn, cfg *config.Config) map[string]replication.RenamedTable {
	if cfg.Rules != "" || len(cfg.Postgres.Tables) == 0 {
		return nil
	}
	renamed, err := pipeline.RenamedListedTables(ctx, db, cfg.DataDir, cfg.Postgres.Tables)
	if err != nil {
		return nil
	}
	return renamed
}
