package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/pipeline"
	"github.com/walrelay/walrelay/replication"
)

// checkStoreWritable says whether `walrelay run` will be able to create
// the checkpoint store where it is missing and write it, and data_dir, which
// it locks whichever the store (checkDataDir). It leaves nothing behind:
// check creates neither data_dir nor the postgres store's schema and table.
func checkStoreWritable(ctx context.Context, db *pgx.Conn, cfg *config.Config) []replication.Finding {
	var findings []replication.Finding
	if cfg.DataDir != "" { // run locks it whichever the store
		findings = checkDataDir(cfg.DataDir)
	}
	if cfg.Checkpoint.Store != "postgres" {
		return findings
	}
	st, err := checkpoint.InspectTable(ctx, db)
	if err != nil {
		return append(findings, replication.Finding{What: "checkpoint store postgres: " + err.Error(), Fix: "check the role's privileges"})
	}
	return append(findings, tableFinding(st))
}

// tableFinding is the finding about the postgres store's table: what run
// will create or add and whether the role may, with the SQL that lets it.
// What run refuses is checkpoint.TableState.Refusal, run's own error.
func tableFinding(st checkpoint.TableState) replication.Finding {
	t := checkpoint.TableName
	what := func(s string, a ...any) string { return "checkpoint store postgres: " + fmt.Sprintf(s, a...) }
	if r := st.Refusal(); r != nil {
		return replication.Finding{What: what("%s", r.What), Fix: r.Fix}
	}
	switch {
	case !st.SchemaExists:
		return replication.Finding{OK: true, What: what("%s is missing; walrelay run creates it (and schema %s)", t, checkpoint.Schema)}
	case !st.TableExists:
		return replication.Finding{OK: true, What: what("%s is missing; walrelay run creates it", t)}
	case !st.HasCatchup:
		return replication.Finding{OK: true, What: what("%s lacks column catchup (made by an older walrelay); walrelay run adds it", t)}
	case !st.HasLineage && !st.Owner:
		return replication.Finding{Warn: true, What: what("%s, made by an older walrelay, lacks column lineage, and role %s, which does not own it, "+
			"may not add it: walrelay run keeps the column lineage in data_dir only", t, st.Role),
			Fix: "as the table's owner: " + checkpoint.AddLineageStatement()}
	case !st.HasLineage:
		return replication.Finding{OK: true, What: what("%s lacks column lineage (made by an older walrelay); walrelay run adds it", t)}
	}
	return replication.Finding{OK: true, What: what("role %s may read and write %s", st.Role, t)}
}

// checkDataDir says whether `walrelay run` can use data_dir: it does what
// run does before it takes the lock (pipeline.ProbeDataDir: create dir when
// missing, create and remove a file in it) and undoes it, so check leaves
// no data_dir behind and never touches a running walrelay's lock. A
// problem is reported with run's own error text and fix.
func checkDataDir(dir string) []replication.Finding {
	_, statErr := os.Stat(dir)
	if err := pipeline.ProbeDataDir(dir); err != nil {
		var de *pipeline.DataDirError
		if errors.As(err, &de) {
			return []replication.Finding{{What: de.Problem(), Fix: de.Fix()}}
		}
		return []replication.Finding{{What: "data_dir: " + err.Error(), Fix: "set data_dir to a directory walrelay run may create and write"}}
	}
	if os.IsNotExist(statErr) {
		return []replication.Finding{{OK: true, What: fmt.Sprintf("data_dir %s does not exist yet; walrelay run creates it", dir)}}
	}
	if what, fix := pipeline.DataDirWarning(dir); what != "" {
		return []replication.Finding{{Warn: true, What: what, Fix: fix}}
	}
	return nil
}
