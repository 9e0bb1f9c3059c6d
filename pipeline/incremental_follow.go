package pipeline

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// An incremental catch-up follows its tables by OID. A table renamed or
// moved (ALTER TABLE ... RENAME TO / SET SCHEMA) while the catch-up reads
// it keeps its OID, its rows and its place in the publication: the runner
// reads its remaining chunks under its current name, and the publisher
// matches its stream changes (which arrive under the new name) to the
// catch-up's table by OID. The catch-up keeps the name it was recorded
// under (its cursor, windows and watermarks), so nothing of it changes
// but the name a chunk is read by; its read events carry the relation the
// chunk was read with, so they go where its stream changes go.

// incOIDs maps the OID of each catch-up table the runner found to the
// table's name in the catch-up. The runner adds to it (copy on write);
// the publisher reads it for every change.
type incOIDs struct {
	m atomic.Pointer[map[uint32]string]
}

// get returns the catch-up name of the table with oid, if the runner found
// it.
func (o *incOIDs) get(oid uint32) (string, bool) {
	if m := o.m.Load(); m != nil {
		n, ok := (*m)[oid]
		return n, ok
	}
	return "", false
}

// known reports whether the runner found the catch-up table name.
func (o *incOIDs) known(name string) bool {
	if m := o.m.Load(); m != nil {
		for _, n := range *m {
			if n == name {
				return true
			}
		}
	}
	return false
}

// add records oid as the catch-up table name. Called by the runner only.
func (o *incOIDs) add(oid uint32, name string) {
	next := map[uint32]string{}
	if m := o.m.Load(); m != nil {
		next = maps.Clone(*m)
	}
	next[oid] = name
	o.m.Store(&next)
}

// tableOfChange is the catch-up table rel belongs to, "" if none: the
// table with rel's OID, whatever its name now; else the catch-up table
// named like rel whose OID the runner has not found yet. Called on the
// publisher goroutine.
func (inc *incremental) tableOfChange(rel *event.Relation) string {
	if name, ok := inc.oids.get(rel.OID); ok {
		if inc.tables[name] {
			return name
		}
		return ""
	}
	name := rel.QualifiedName()
	if inc.tables[name] && !inc.oids.known(name) {
		return name
	}
	return ""
}

// readName returns the name to read the catch-up table table by now: its
// current name, found by the OID it had when the runner first read it;
// "" when it was dropped. A new name is logged once. Called by the runner
// before each chunk, on its connection.
func (inc *incremental) readName(ctx context.Context, conn *pgx.Conn, table string) (string, error) {
	var oid uint32
	for o, n := range inc.oidsOf() {
		if n == table {
			oid = o
		}
	}
	if oid == 0 {
		byName, err := tablesByName(ctx, conn, []string{table})
		if err != nil {
			return "", fmt.Errorf("incremental snapshot: %w", err)
		}
		for o := range byName {
			inc.oids.add(o, table)
			return table, nil
		}
		return "", nil // dropped before its first chunk
	}
	current, err := tablesByOID(ctx, conn, []uint32{oid})
	if err != nil {
		return "", fmt.Errorf("incremental snapshot: %w", err)
	}
	name := current[oid]
	if name != "" && !sameTable(table, name) && inc.renamed[table] != name {
		if inc.renamed == nil {
			inc.renamed = map[string]string{}
		}
		inc.renamed[table] = name
		inc.s.log.Warn().Str("table", table).Str("now", name).Uint32("oid", oid).
			Msg("incremental snapshot: the table was renamed or moved while it was read; its remaining rows are read under its new name (same OID)")
	}
	return name, nil
}

// oidsOf is the runner's view of inc.oids.
func (inc *incremental) oidsOf() map[uint32]string {
	if m := inc.oids.m.Load(); m != nil {
		return *m
	}
	return nil
}
