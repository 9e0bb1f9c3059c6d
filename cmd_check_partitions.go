package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
)

// partitionAncestorsSQL lists each partition with each of its partitioned
// ancestors, the root last (highest level).
const partitionAncestorsSQL = replication.PartitionAncestorsSQL + `
ORDER BY 1, 2, anc.level`

// viaRootPartitions maps each partition of captured whose partitioned
// ancestor is captured too to the topmost such ancestor: with rules and a
// managed publication on PostgreSQL 13 or later, `walrelay run` publishes
// with publish_via_partition_root and lists only that ancestor, so the
// partition's changes arrive under the ancestor's name, on its topic
// (pipeline's rulesTables). nil otherwise.
func viaRootPartitions(ctx context.Context, db *pgx.Conn, cfg *config.Config, captured []string) (map[string]string, error) {
	if cfg.Rules == "" || !cfg.Publication.ManageEnabled() || len(captured) == 0 {
		return nil, nil
	}
	version, err := replication.ServerVersion(ctx, db)
	if err != nil || version < replication.ViaRootVersion {
		return nil, err
	}
	rows, err := db.Query(ctx, partitionAncestorsSQL)
	if err != nil {
		return nil, fmt.Errorf("listing partitions: %w", err)
	}
	out := map[string]string{}
	var rs, rn, ps, pn string
	_, err = pgx.ForEachRow(rows, []any{&rs, &rn, &ps, &pn}, func() error {
		part, anc := pgident.Format(rs, rn), pgident.Format(ps, pn)
		if slices.Contains(captured, part) && slices.Contains(captured, anc) {
			out[part] = anc // rows come root last: the topmost captured ancestor stays
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing partitions: %w", err)
	}
	return out, nil
}

// throughRoot leaves out of m's tables the partitions of roots
// (viaRootPartitions) whose ancestor m lists too, and returns the notes
// that say where the changes of m's partitions arrive: one per ancestor.
// A partition whose ancestor another rule captures stays listed, with its
// note.
func throughRoot(m *filter.RuleMatch, roots map[string]string) []replication.Finding {
	byRoot := map[string][]string{}
	for _, t := range m.Tables {
		if root, ok := roots[t]; ok {
			byRoot[root] = append(byRoot[root], t)
		}
	}
	listed := slices.Clone(m.Tables)
	m.Tables = slices.DeleteFunc(m.Tables, func(t string) bool { return slices.Contains(listed, roots[t]) })
	label := fmt.Sprintf("rules[%d]", m.Rule)
	if m.Rule < 0 {
		label = "rules: default"
	}
	var out []replication.Finding
	for _, root := range slices.Sorted(maps.Keys(byRoot)) {
		parts := strings.Join(byRoot[root], ", ")
		what := fmt.Sprintf("%s: %s is partitioned: the changes of its partitions (%s) arrive under its name, on its topic "+
			"(publish_via_partition_root), not on topics of their own", label, root, parts)
		if !slices.Contains(listed, root) {
			what = fmt.Sprintf("%s: %s, partitions of %s, which the rules capture: their changes arrive under its name, "+
				"on its topic (publish_via_partition_root), not on topics of their own", label, parts, root)
		}
		out = append(out, replication.Finding{OK: true, What: what})
	}
	return out
}

// leaveOutPartitions returns captured without the partitions of roots:
// the tables `walrelay run` publishes under their own names.
func leaveOutPartitions(captured []string, roots map[string]string) []string {
	return slices.DeleteFunc(slices.Clone(captured), func(t string) bool { _, ok := roots[t]; return ok })
}
