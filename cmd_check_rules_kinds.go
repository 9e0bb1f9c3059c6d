package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/pgident"
	"github.com/walrelay/walrelay/replication"
)

// uncapturableNamed warns about the tables a capturing rule names exactly
// (not by a glob or re: pattern) that exist but are not tables logical
// decoding publishes: an unlogged table, a view, a materialized view, a
// foreign table. run leaves them out of the capture set without a word
// (auditc7), as it must a table a glob happens to match; a name written
// out was meant to be captured. A name that does not exist is no finding:
// rules may name tables created later.
func uncapturableNamed(ctx context.Context, db *pgx.Conn, file string, rs *filter.Rules) []replication.Finding {
	type named struct {
		rule  int
		table string
	}
	var all []named
	var names []string
	for _, r := range rs.Rules {
		if r.Drop {
			continue
		}
		for _, p := range r.Tables {
			if strings.HasPrefix(p, "re:") || strings.ContainsAny(p, `*?[\`) {
				continue
			}
			all = append(all, named{r.Index, p})
			names = append(names, p)
		}
	}
	kinds, err := replication.UncapturableKinds(ctx, db, names)
	if err != nil {
		return []replication.Finding{{What: "rules: reading the catalog: " + err.Error(), Fix: "check the role's privileges"}}
	}
	var out []replication.Finding
	for _, n := range all {
		kind, ok := kinds[n.table]
		if !ok {
			continue
		}
		fix := "remove it from the rule: only tables can be captured (capture the table(s) it reads from instead)"
		if kind == "an unlogged table" {
			fix = fmt.Sprintf("ALTER TABLE %s SET LOGGED; to capture it, or remove it from the rule", pgident.SQLName(n.table))
		}
		out = append(out, replication.Finding{Warn: true,
			What: fmt.Sprintf("%s: rules[%d] names %s, which is %s: logical decoding skips it, so walrelay captures nothing of it", file, n.rule, n.table, kind),
			Fix:  fix})
	}
	return out
}
