package filter

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/event"
)

// CatalogColumn is a column of a table as pg_attribute shows it now
// (attnum > 0, dropped ones included).
type CatalogColumn struct {
	Attnum   int16
	Name     string // attname; a dropped column's is PostgreSQL's placeholder
	TypeOID  uint32 // as the decoder describes the column: a domain's base type
	TypeName string
	// Dropped: attisdropped. Generated: a generated column, which pgoutput
	// does not publish.
	Dropped, Generated bool
}

// reconciled is a table whose saved columns ReconcileLineage found
// changed in the catalog: the lineage's newest version is the catalog's,
// and saved the state it was seeded with, written back while no relation
// of the table has been seen (see tableLineage.state).
type reconciled struct {
	saved   LineageTable
	cols    []event.Column    // saved's columns
	toSaved map[string]string // a catalog column's name -> its name in saved (kept or renamed)
}

// lineageCatalogSQL reads the columns of the tables $1 from pg_attribute,
// a domain's as its base type (as the decoder and columnTypesSQL do), and
// the WAL position: every change already written is below it.
const lineageCatalogSQL = domainBaseCTE + `SELECT a.attrelid::int8, a.attnum, a.attname::text, coalesce(t.oid, 0)::int8, coalesce(t.typname::text, ''),
       a.attisdropped, a.attgenerated <> '',
       (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text
FROM pg_attribute a
LEFT JOIN base ON base.oid = a.atttypid
LEFT JOIN pg_type t ON t.oid = coalesce(base.base, a.atttypid)
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0
ORDER BY a.attrelid, a.attnum`

// ReconcileLineage compares the tables the lineage knows only from a saved
// state (SeedLineage; no relation seen yet) with the catalog, so that a
// column renamed while walrelay was stopped is known as a former name
// before the replay from the checkpoint reaches the changes from before
// the rename. A table whose columns changed takes the catalog's columns as
// its newest version, newer than every change already written: a replayed
// relation with the saved columns is then an older version, and a rule
// that masks or excludes the column by its new name only halts on it
// (renamedColumn.halt, "add the old name too") instead of publishing it.
// Saved columns are paired with the catalog's by attnum where the state
// has them; otherwise as in matchColumns, and, for a table that has no
// dropped column, by position (nothing was dropped, so every saved column
// is still there, in order). A table saved without its columns (captured,
// none hidden) is compared by its shape only. Every table whose columns
// differ is recorded for StoppedChanges. Call it after SeedLineage, before
// rs's first Apply. It only reads.
func (rs *Rules) ReconcileLineage(ctx context.Context, q Querier) error {
	l := rs.lineage
	if l == nil {
		return nil
	}
	oids := l.seeded()
	if len(oids) == 0 {
		return nil
	}
	cat, at, err := readLineageCatalog(ctx, q, oids)
	if err != nil {
		return err
	}
	l.reconcile(cat, at)
	return nil
}

// seeded returns the OIDs of the tables known only from a saved state.
func (l *lineage) seeded() []uint32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []uint32
	for oid, h := range l.tables {
		if h.seen == 0 && h.recon == nil && (len(h.cols) > 0 || len(h.shape) > 0) { // none: a name only, nothing to compare
			out = append(out, oid)
		}
	}
	slices.Sort(out)
	return out
}

// readLineageCatalog runs lineageCatalogSQL.
func readLineageCatalog(ctx context.Context, q Querier, oids []uint32) (map[uint32][]CatalogColumn, event.LSN, error) {
	rows, err := q.Query(ctx, lineageCatalogSQL, oids)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: reading pg_attribute for the column lineage: %w", err)
	}
	out := map[uint32][]CatalogColumn{}
	var (
		oid, typ int64
		c        CatalogColumn
		lsn      string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &c.Attnum, &c.Name, &typ, &c.TypeName, &c.Dropped, &c.Generated, &lsn}, func() error {
		c.TypeOID = uint32(typ)
		out[uint32(oid)] = append(out[uint32(oid)], c)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: reading pg_attribute for the column lineage: %w", err)
	}
	var at event.LSN
	if lsn != "" {
		if err := at.Scan(lsn); err != nil {
			return nil, 0, fmt.Errorf("postgres: WAL position %q: %w", lsn, err)
		}
	}
	return out, at, nil
}

// reconcile applies the catalog cat, read when the WAL was at at, to the
// tables known only from a saved state (see ReconcileLineage). A table
// whose columns are unchanged but whose saved attnums were not all known
// takes the catalog's, and the lineage is saved again (one write at
// start, see Rules.LineageChanged).
func (l *lineage) reconcile(cat map[uint32][]CatalogColumn, at event.LSN) {
	if at == 0 {
		at = ^event.LSN(0) // unknown: every change replayed is older
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for oid, h := range l.tables {
		cs, ok := cat[oid]
		switch {
		case !ok || h.seen != 0 || h.recon != nil:
		case len(h.cols) == 0: // captured only: its shape
			l.reshape(oid, h, cs)
		default:
			nums, before := slices.Clone(h.attnums), h.cols
			h.reconcile(oid, cs, at)
			if after := shapeOf(h.cols); h.recon != nil && !slices.Equal(after, h.shape) { // not reported at the last start
				l.stopped = append(l.stopped, StoppedChange{OID: oid, Table: h.name, Before: shapeOf(before), After: after})
				h.shape, l.changed = after, true
			} else if h.recon == nil && !slices.Equal(nums, h.attnums) {
				l.changed = true // saved again with them: a swap made before the next start pairs by attnum
			}
		}
	}
}

// reconcile makes the catalog's columns cat h's newest version when they
// differ from the saved ones (see ReconcileLineage); with the same names
// and types it only takes their attnums.
func (h *tableLineage) reconcile(oid uint32, cat []CatalogColumn, at event.LSN) {
	cols, nums := publishedColumns(cat)
	if len(cols) == 0 {
		return
	}
	if sameShape(h.cols, cols) {
		h.attnums = nums
		return
	}
	toSaved := pairSaved(h.cols, h.attnums, cat)
	next := map[string][]string{}
	for _, c := range cols {
		if old, ok := toSaved[c.Name]; ok {
			names := slices.DeleteFunc(appendName(h.formerly[old], old), func(n string) bool { return n == c.Name })
			if len(names) > 0 {
				next[c.Name] = names
			}
		}
	}
	h.recon = &reconciled{saved: h.state(oid), cols: h.cols, toSaved: toSaved}
	h.cols, h.attnums, h.formerly, h.since, h.older = cols, nums, nil, at, false
	if len(next) > 0 {
		h.formerly = next
	}
}

// publishedColumns returns the columns of cat that pgoutput publishes
// (neither dropped nor generated), as event.Columns, and their attnums.
func publishedColumns(cat []CatalogColumn) ([]event.Column, []int16) {
	var cols []event.Column
	var nums []int16
	for _, c := range cat {
		if !c.Dropped && !c.Generated {
			cols = append(cols, event.Column{Name: c.Name, TypeOID: c.TypeOID, TypeName: c.TypeName})
			nums = append(nums, c.Attnum)
		}
	}
	return cols, nums
}

// pairSaved pairs saved columns (attnums: theirs, 0 unknown) with the
// catalog's: catalog name -> saved name, for each saved column still there
// (under its name or another). A known attnum decides: a rename keeps it,
// a dropped column's stays dropped. The others (added since the attnums
// were taken, or a state without them) come after the known ones and are
// paired with the catalog's columns after those: see pairUnknown.
func pairSaved(saved []event.Column, attnums []int16, cat []CatalogColumn) map[string]string {
	out := map[string]string{}
	var unknown []event.Column
	var maxKnown int16
	for i, c := range saved {
		n := int16(0)
		if i < len(attnums) {
			n = attnums[i]
		}
		if n == 0 {
			unknown = append(unknown, c)
			continue
		}
		maxKnown = max(maxKnown, n)
		if j := slices.IndexFunc(cat, func(cc CatalogColumn) bool { return cc.Attnum == n }); j >= 0 && !cat[j].Dropped && !cat[j].Generated {
			out[cat[j].Name] = c.Name
		}
	}
	if len(unknown) > 0 {
		maps.Copy(out, pairUnknown(unknown, cat, maxKnown))
	}
	return out
}

// pairUnknown pairs saved columns of unknown attnums with the catalog's
// published columns above after. When no attnum is known (after is 0),
// the table never dropped a column and has as many as were saved, by
// position (pairByPosition). Else as matchColumns pairs two relation
// versions (names in order, renames by type), and, when no column above
// after was dropped, the saved columns matchColumns leaves unpaired with
// the catalog's it leaves unpaired between the same paired columns, in
// order, whatever their types: with nothing dropped every saved column is
// still there (a column renamed and retyped).
func pairUnknown(unknown []event.Column, cat []CatalogColumn, after int16) map[string]string {
	var rest []event.Column
	dropped := false
	for _, c := range cat {
		switch {
		case c.Attnum <= after || c.Generated:
		case c.Dropped:
			dropped = true
		default:
			rest = append(rest, event.Column{Name: c.Name, TypeOID: c.TypeOID, TypeName: c.TypeName})
		}
	}
	if after == 0 && !dropped && len(rest) == len(unknown) {
		return pairByPosition(unknown, rest) // nothing ever dropped, nothing added: a swap of names too
	}
	m := matchColumns(unknown, rest)
	if dropped {
		return m
	}
	paired := map[string]bool{}
	for _, o := range m {
		paired[o] = true
	}
	gone := leftovers(unknown, func(c event.Column) bool { return paired[c.Name] })
	came := leftovers(rest, func(c event.Column) bool { _, ok := m[c.Name]; return ok })
	for gap, gs := range gone {
		for i, g := range gs {
			if i < len(came[gap]) {
				m[came[gap][i].Name] = g.Name
			}
		}
	}
	return m
}

// pairByPosition pairs the i-th column of saved with the i-th of cat:
// catalog name -> saved name. Exact when the table never dropped a column
// and none was added since saved was seen, as pairUnknown uses it:
// pgoutput and pg_attribute list columns in attnum order, a rename keeps
// the attnum, and a published column stays published (a generated one may
// become a plain one, but that adds one). Unlike matchColumns, it tells a
// swap of two names (email to tmp, phone to email, tmp to phone) from a
// column dropped and another added.
func pairByPosition(saved, cat []event.Column) map[string]string {
	out := make(map[string]string, len(cat))
	for i, c := range cat {
		out[c.Name] = saved[i].Name
	}
	return out
}

// leftovers returns the columns of cols that are not paired, grouped by
// the number of paired columns before them.
func leftovers(cols []event.Column, paired func(event.Column) bool) map[int][]event.Column {
	out := map[int][]event.Column{}
	gap := 0
	for _, c := range cols {
		if paired(c) {
			gap++
			continue
		}
		out[gap] = append(out[gap], c)
	}
	return out
}
