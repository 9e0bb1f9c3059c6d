package main

import (
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/replication"
)

// checkLineage gives rs the column lineage walrelay run saved in data_dir
// (column-lineage.json, only read, and only if present), as run seeds its
// rules with it: a masked column's former name that the lineage knows is
// then accepted, as run accepts it. A file that does not read is a finding
// (walrelay run refuses to start over it).
func checkLineage(cfg *config.Config, rs *filter.Rules) []replication.Finding {
	if cfg.DataDir == "" {
		return nil
	}
	st, err := pipeline.ReadLineage(cfg.DataDir)
	if err != nil {
		return []replication.Finding{{What: "column lineage: " + err.Error(),
			Fix: "restore the file, or delete it (walrelay run refuses to start until then)"}}
	}
	rs.SeedLineage(st)
	return nil
}
