package main

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/replication"
)

// checkPGAccess is the findings `walrelay run` would otherwise meet only
// after creating its slot: a DSN that points at a hot standby that cannot
// decode (PostgreSQL before 16), and captured tables the role may not read
// (the snapshot locks and reads them), each with its fix.
func checkPGAccess(ctx context.Context, db *pgx.Conn, captured []string) []replication.Finding {
	a, err := replication.ReadAccess(ctx, db, captured)
	if err != nil {
		return []replication.Finding{{What: err.Error(), Fix: "check the role's privileges"}}
	}
	var out []replication.Finding
	if what, fix := a.StandbyProblem(); what != "" {
		out = append(out, replication.Finding{What: what, Fix: fix})
	} else if a.InRecovery {
		out = append(out, replication.Finding{OK: true, What: "server is a hot standby of PostgreSQL 16+, which decodes " +
			"logical replication (the publication must be created on the primary)"})
	} else {
		out = append(out, replication.Finding{OK: true, What: "server is a primary (not in recovery)"})
	}
	if what, fix := a.GrantProblem(); what != "" {
		return append(out, replication.Finding{What: what, Fix: fix})
	}
	if len(captured) > 0 {
		out = append(out, replication.Finding{OK: true, What: "role " + a.Role + " may read the captured tables"})
	}
	return out
}
