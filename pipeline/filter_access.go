package pipeline

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/replication"
)

// requireRulesSelect is replication.RequireSelect for a rules file: an
// error, with the GRANT that fixes it, when the role may not read a table
// the rules capture (rulesTables, as a publication with or without
// publish_via_partition_root publishes it: viaRoot). preparePublication
// calls it before it changes the publication, and so before any slot
// exists: a slot created for a snapshot that then fails on LOCK TABLE holds
// WAL until someone drops it. With publication.manage false, only the
// captured tables the publication publishes are required (published; nil
// for a FOR ALL TABLES one): the changes of the others never arrive, and
// checkUnmanagedPublication warns about them.
func requireRulesSelect(ctx context.Context, db *pgx.Conn, rules *filter.Rules, excluded map[string]bool,
	viaRoot bool, published []pubTable) error {
	want, err := rulesTables(ctx, db, rules, excluded, viaRoot)
	if err != nil {
		return err
	}
	if published != nil {
		missing, _ := diffPubTables(want, published)
		want, _ = diffPubTables(want, missing)
	}
	return replication.RequireSelect(ctx, db, pubTableNames(want))
}
