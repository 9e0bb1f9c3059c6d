package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/replication"
)

// checkRules loads the rules file and reports, per rule, the tables it
// captures (or drops) and the problems only the catalog shows: first the
// where expressions that do not fit a table (column missing, types that do
// not compare, not a boolean), for which walrelay run refuses the file,
// then the others, then warnings (a where that deletes cannot pass). It
// returns the captured tables, for the replica-identity checks (nil when
// there are no rules).
func checkRules(ctx context.Context, db *pgx.Conn, cfg *config.Config) ([]replication.Finding, []string) {
	if cfg.Rules == "" {
		return nil, nil
	}
	rs, err := filter.Load(cfg.Rules, cfg.MaskSalt)
	if err != nil {
		return []replication.Finding{{What: "rules: " + err.Error(), Fix: "fix the rules file at the position shown"}}, nil
	}
	tables, err := filter.TablesWithTypes(ctx, db)
	if err != nil {
		return []replication.Finding{{What: "rules: reading the catalog: " + err.Error(), Fix: "check the role's privileges"}}, nil
	}
	out := checkLineage(ctx, db, cfg, rs) // a masked column's former names pass, as in run (cmd_check_lineage.go)
	matches := rs.DescribeTables(ownTablesLeftOut(cfg, tables))
	captured := rs.CapturedTables(tables)
	roots, err := viaRootPartitions(ctx, db, cfg, captured) // published through their root (cmd_check_partitions.go)
	if err != nil {
		out = append(out, replication.Finding{What: "rules: " + err.Error(), Fix: "check the role's privileges"})
	}
	for _, m := range matches {
		notes := throughRoot(&m, roots)
		out = append(out, replication.Finding{OK: true, What: describeMatch(cfg.Rules, rs, m)})
		out = append(out, notes...)
		for _, p := range m.Refused { // walrelay run refuses the file for these
			out = append(out, replication.Finding{What: p.Message(), Fix: p.Fix + " (walrelay run refuses this rules file until then)"})
		}
		for _, p := range m.Problems {
			out = append(out, replication.Finding{What: p.Message(), Fix: p.Fix})
		}
		for _, p := range m.Warnings { // rules that work as written, losing what a user likely expects
			out = append(out, replication.Finding{Warn: true, What: p.Message(), Fix: p.Fix})
		}
	}
	out = append(out, uncapturableNamed(ctx, db, cfg.Rules, rs)...) // cmd_check_rules_kinds.go
	captured = leaveOutPartitions(captured, roots)
	if len(captured) == 0 {
		out = append(out, noTableFinding(rs))
	}
	return out, captured
}

// noTableFinding reports rules that capture no existing table: a problem,
// unless they publish logical decoding messages (a messages: route, or
// default: capture, which publishes unrouted messages as op m events), as a
// messages-only rules file does; walrelay run accepts both.
func noTableFinding(rs *filter.Rules) replication.Finding {
	switch {
	case len(rs.Messages) > 0:
		return replication.Finding{OK: true, What: "rules capture no table, only logical decoding messages (messages:)"}
	case rs.Default == filter.DefaultCapture:
		return replication.Finding{OK: true, What: "rules capture no table, only logical decoding messages (default: capture publishes them as op m events)"}
	}
	return replication.Finding{What: "rules capture no existing table", Fix: "check the tables: patterns of the rules"}
}

// describeMatch is check's line for what rule m decides: the tables it
// captures, or, for a drop rule, drops (with its operations when it names
// some: the others are left to later rules).
func describeMatch(file string, rs *filter.Rules, m filter.RuleMatch) string {
	tables := "no table"
	if len(m.Tables) > 0 {
		tables = replication.SampleNames(m.Tables, 10) // 2,000 tables made a 20 KB line
	}
	if m.Rule < 0 {
		return fmt.Sprintf("rules: default captures %s", tables)
	}
	verb, ops := "captures", ""
	if m.Drop {
		verb = "drops"
		for _, r := range rs.Rules {
			if r.Index == m.Rule && len(r.Operations) > 0 {
				ops = " (operations: " + strings.Join(r.Operations, ", ") + ")"
			}
		}
	}
	return fmt.Sprintf("rules[%d] (%s:%s) %s %s%s", m.Rule, file, m.Pos, verb, tables, ops)
}

// ownTablesLeftOut returns tables without walrelay's checkpoint table (with
// checkpoint.store postgres): it is never captured, whatever a glob matches,
// so the rules are not checked against it.
func ownTablesLeftOut(cfg *config.Config, tables []filter.Table) []filter.Table {
	if cfg.Checkpoint.Store != "postgres" {
		return tables
	}
	var out []filter.Table
	for _, t := range tables {
		if t.QualifiedName() != checkpoint.TableName {
			out = append(out, t)
		}
	}
	return out
}
