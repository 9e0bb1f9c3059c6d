package pipeline

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/filter"
)

// viaRootSplit splits parts, partitioned tables that a publication without
// publish_via_partition_root publishes, by what the rules make of them.
// Without the setting PostgreSQL sends a partitioned table's changes under
// each leaf partition's name, and the snapshot reads the leaves
// (pg_publication_tables lists them, not the partitioned table), so the
// rules decide the leaves: none holds those of parts none of whose leaves
// the rules capture (rules that name only the partitioned table publish
// nothing of it); some, the others, published under their partitions'
// names and topics.
func viaRootSplit(ctx context.Context, db *pgx.Conn, parts []string, rules *filter.Rules) (none, some []string, err error) {
	if rules == nil {
		return nil, parts, nil
	}
	tree, err := readPartitions(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	captured := map[string]bool{} // partitioned tables with a captured leaf
	for leaf, ancestors := range tree.ancestors {
		if slices.Contains(tree.parents, leaf) || !rules.Captures(leaf.String()) {
			continue
		}
		for _, a := range ancestors {
			captured[a.String()] = true
		}
	}
	for _, p := range parts {
		if captured[p] {
			some = append(some, p)
		} else {
			none = append(none, p)
		}
	}
	return none, some, nil
}
