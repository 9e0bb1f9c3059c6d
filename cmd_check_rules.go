package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/replication"
)

// checkRules loads the rules file and reports, per rule, the tables it
// captures and the problems only the catalog shows. It returns the captured
// tables, for the replica-identity checks (nil when there are no rules).
func checkRules(ctx context.Context, db *pgx.Conn, cfg *config.Config) ([]replication.Finding, []string) {
	if cfg.Rules == "" {
		return nil, nil
	}
	rs, err := filter.Load(cfg.Rules, cfg.MaskSalt)
	if err != nil {
		return []replication.Finding{{What: "rules: " + err.Error(), Fix: "fix the rules file at the position shown"}}, nil
	}
	matches, err := filter.Describe(ctx, db, rs)
	if err != nil {
		return []replication.Finding{{What: "rules: reading the catalog: " + err.Error(), Fix: "check the role's privileges"}}, nil
	}
	var out []replication.Finding
	for _, m := range matches {
		out = append(out, replication.Finding{OK: true, What: describeMatch(cfg.Rules, m)})
		for _, p := range m.Problems {
			out = append(out, replication.Finding{What: p.Message(), Fix: p.Fix})
		}
	}
	tables, err := filter.TablesWithPartitioned(ctx, db)
	if err != nil {
		return append(out, replication.Finding{What: "rules: listing tables: " + err.Error()}), nil
	}
	captured := rs.CapturedTables(tables)
	if len(captured) == 0 {
		out = append(out, replication.Finding{What: "rules capture no existing table", Fix: "check the tables: patterns of the rules"})
	}
	return out, captured
}

func describeMatch(file string, m filter.RuleMatch) string {
	tables := "no table"
	if len(m.Tables) > 0 {
		tables = strings.Join(m.Tables, ", ")
	}
	if m.Rule < 0 {
		return fmt.Sprintf("rules: default captures %s", tables)
	}
	return fmt.Sprintf("rules[%d] (%s:%s) captures %s", m.Rule, file, m.Pos, tables)
}
