package main

import (
	"context"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/replication"
)

// checkLineage gives rs the column lineage walrelay run saved (data_dir's
// column-lineage.json and, with checkpoint.store: postgres, the store's;
// only read, and only if present), reconciled with the catalog over q, as
// run seeds its rules with it: a masked column's former name that the
// lineage knows is then accepted, as run accepts it, and a column renamed
// while walrelay was stopped is known by its former name. A saved state
// that does not read is a finding (walrelay run refuses to start over it).
// With a checkpoint stored, the tables the saved lineage lacks are checked
// as run checks them when it resumes (filter.Rules.GuardResume).
func checkLineage(ctx context.Context, q filter.Querier, cfg *config.Config, rs *filter.Rules) []replication.Finding {
	if cfg.DataDir == "" && cfg.Checkpoint.Store != "postgres" {
		return nil
	}
	st, err := pipeline.ReadLineage(ctx, cfg)
	if err != nil {
		return []replication.Finding{{What: "column lineage: " + err.Error(),
			Fix: "do what the message says: restore or delete the saved lineage, or let walrelay reach the checkpoint store (walrelay run refuses to start until then)"}}
	}
	rs.SeedLineage(st)
	if err := rs.ReconcileLineage(ctx, q); err != nil {
		return []replication.Finding{{What: "column lineage: " + err.Error(), Fix: "check the role's privileges"}}
	}
	if !checkpointFound(ctx, cfg) {
		return nil
	}
	if err := rs.GuardResume(ctx, q); err != nil { // as run resuming: a table the lineage lacks is checked
		return []replication.Finding{{What: "column lineage: " + err.Error(), Fix: "check the role's privileges"}}
	}
	return nil
}

// checkpointFound reports whether a checkpoint is stored, so that walrelay
// run resumes from it: only read; false when the store cannot be read
// (checkCheckpoint reports it).
func checkpointFound(ctx context.Context, cfg *config.Config) bool {
	store, err := pipeline.OpenStore(ctx, cfg, false)
	if err != nil {
		return false
	}
	defer store.Close()
	_, found, err := store.Load(ctx)
	return err == nil && found
}
