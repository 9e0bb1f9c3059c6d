package filter

import (
	"cmp"
	"slices"

	"github.com/walrelay/walrelay/event"
)

// LineageState is the part of the column lineage (see lineage) that a
// restarted process needs to see a rename made while walrelay was stopped:
// for every table a rule that masks or excludes columns names, the columns
// of the newest relation version seen and their former names; for every
// other table the rules capture, its name and OID, so that a table
// renamed to a name the rules drop is warned about after a restart too
// (see RenamedTable), and its shape, so that a table whose columns changed
// while walrelay was stopped is reported (StoppedChanges). The pipeline
// saves it in the data directory and, with checkpoint.store: postgres, in
// the checkpoint store (LineageChanged) and seeds the rules of
// the next process with it (SeedLineage), whose first relation of the table
// is then compared with it as with one seen in the same process.
type LineageState struct {
	Version int            `json:"version"` // LineageVersion
	Tables  []LineageTable `json:"tables"`  // sorted by OID
	// Complete says every table captured at the saving process's starts
	// is in Tables (TrackTables ran, none omitted): a table it lacks was
	// not captured then (see GuardResume). False in an older state.
	Complete bool `json:"complete,omitempty"`
	// Omitted is how many tables were left out to keep the state within
	// MaxLineageTables (the least recently seen); not saved.
	Omitted int `json:"-"`
}

// LineageTable is one table of a LineageState. A table is identified by
// its OID: renaming it keeps the OID (and the lineage), dropping and
// re-creating it makes a new one (no rename).
type LineageTable struct {
	OID      uint32              `json:"oid"`
	Table    string              `json:"table"` // schema.table when last seen, for the reader
	Columns  []LineageColumn     `json:"columns"`
	Formerly map[string][]string `json:"formerly,omitempty"` // column -> its former names, oldest first
	// Since is the LSN of the first change seen with Columns (0: unknown),
	// Older whether it was older than the version seen before (a change
	// from before a rename, replayed): then Formerly holds later names.
	Since event.LSN `json:"since_lsn,omitempty"`
	Older bool      `json:"older,omitempty"`
	// Shape is, for a table saved without Columns (captured, no column
	// hidden), its columns when last seen as "name type" (none in a state
	// of an older walrelay), so that a restarted process reports a table
	// whose columns changed while it was stopped (StoppedChanges). For a
	// table saved as reconciled (see tableLineage.state), the catalog's
	// columns it was reported with, so that it is reported once.
	Shape []string `json:"shape,omitempty"`
}

// LineageColumn is a column's name and type, as in event.Column, and its
// attnum in pg_attribute when known (0: unknown; a state saved by an older
// walrelay has none). A rename keeps the attnum, so ReconcileLineage pairs
// a saved column with the catalog's by it.
type LineageColumn struct {
	Name     string `json:"name"`
	TypeOID  uint32 `json:"type_oid"`
	TypeName string `json:"type"`
	Attnum   int16  `json:"attnum,omitempty"`
}

// LineageVersion is the format of LineageState that SeedLineage reads.
// Attnum was added within version 1: a state without it reads as one
// whose attnums are unknown.
const LineageVersion = 1

// MaxLineageTables bounds a LineageState: beyond it the least recently
// seen tables are left out (Omitted), those kept by name only first. It
// is far above the tables a rules file masks or excludes columns of in
// practice.
const MaxLineageTables = 10000

// LineagePending reports whether LineageChanged(true) would return a
// state: a table rs masks or excludes columns of was seen for the first
// time or changed shape or name since the last save, or rs are not the
// rules that saved it (rules loaded since may name other tables). It costs
// a comparison, so it can run after every Apply. Reader goroutine only.
func (rs *Rules) LineagePending() bool {
	l := rs.lineage
	return l != nil && (l.changed || l.savedBy != rs)
}

// LineageChanged returns the lineage state to save, if LineagePending;
// with all false, only if a table already known changed shape or name
// (a rename must be saved before the change is published; new tables can
// wait for the next save). ok is false when there is nothing to save. The
// state is then taken as saved (see LineageUnsaved). Reader goroutine only.
func (rs *Rules) LineageChanged(all bool) (st *LineageState, ok bool) {
	l := rs.lineage
	if !rs.LineagePending() || !all && !l.reshaped {
		return nil, false
	}
	l.changed, l.reshaped, l.savedBy = false, false, rs
	return rs.lineageState(), true
}

// lineageState builds the state of the tables rs masks or excludes
// columns of, and the names, OIDs and shapes (no Columns) of the other
// tables rs captures.
func (rs *Rules) lineageState() *LineageState {
	var hs []*tableLineage
	oids := map[*tableLineage]uint32{}
	hidden := map[*tableLineage]bool{}
	for oid, h := range rs.lineage.tables {
		if hidden[h] = rs.hides(h.name); hidden[h] || rs.Captures(h.name) {
			hs = append(hs, h)
			oids[h] = oid
		}
	}
	st := &LineageState{Version: LineageVersion, Tables: []LineageTable{}}
	if len(hs) > MaxLineageTables {
		slices.SortFunc(hs, func(a, b *tableLineage) int { // those with columns first
			if hidden[a] != hidden[b] {
				return cmp.Compare(btoi(hidden[b]), btoi(hidden[a]))
			}
			return cmp.Compare(b.seen, a.seen)
		})
		st.Omitted, hs = len(hs)-MaxLineageTables, hs[:MaxLineageTables]
	}
	st.Complete = rs.lineage.tracked && st.Omitted == 0
	for _, h := range hs {
		if hidden[h] {
			st.Tables = append(st.Tables, h.state(oids[h]))
		} else { // captured only: its name and OID, for the warning of a rename to a dropped name (see tableRenamed), and its shape
			st.Tables = append(st.Tables, LineageTable{OID: oids[h], Table: h.name, Shape: h.shapeNow()})
		}
	}
	slices.SortFunc(st.Tables, func(a, b LineageTable) int { return cmp.Compare(a.OID, b.OID) })
	return st
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hides reports whether a rule of rs that names table masks or excludes
// columns.
func (rs *Rules) hides(table string) bool {
	return slices.ContainsFunc(rs.Rules, func(r *Rule) bool {
		return (len(r.Mask) > 0 || len(r.Exclude) > 0) && r.matches(table)
	})
}

// SeedLineage makes rs start from a saved lineage state (a previous
// process's, see LineageChanged) for the tables its lineage does not know
// yet: the first relation of such a table that Apply sees is compared with
// the saved columns, so a masked or excluded column renamed since halts as
// if the rename had been seen. Call it before rs's first Apply, after
// Inherit, and ReconcileLineage after it. A table saved without columns
// (captured, no column hidden) is known by its name only: its first
// relation is then taken as the table's first. st may be nil.
func (rs *Rules) SeedLineage(st *LineageState) {
	if st == nil {
		return
	}
	if rs.lineage == nil {
		rs.lineage = newLineage()
	}
	l := rs.lineage
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range st.Tables {
		if _, ok := l.tables[t.OID]; ok {
			continue
		}
		h := &tableLineage{name: t.Table, since: t.Since, older: t.Older, attnums: make([]int16, len(t.Columns)), saved: true}
		for i, c := range t.Columns {
			h.cols = append(h.cols, event.Column{Name: c.Name, TypeOID: c.TypeOID, TypeName: c.TypeName})
			h.attnums[i] = c.Attnum
		}
		if len(t.Formerly) > 0 {
			h.formerly = t.Formerly
		}
		h.shape = t.Shape
		l.tables[t.OID] = h
	}
	l.savedBy = rs // the state saved is this one
	l.seededComplete = st.Complete
}

// state is h as a LineageTable of oid: for a table ReconcileLineage
// reconciled with the catalog and no relation has been seen of since, the
// state it was seeded with, so that the next start reconciles it again
// (the catalog's version has no change of its own to replay against).
func (h *tableLineage) state(oid uint32) LineageTable {
	if h.recon != nil {
		saved := h.recon.saved
		saved.Shape = shapeOf(h.cols) // the catalog's, reported (see lineage.reconcile)
		return saved
	}
	t := LineageTable{OID: oid, Table: h.name, Formerly: h.formerly, Since: h.since, Older: h.older}
	if h.cols == nil { // no relation seen yet (TrackTables, or seeded by name): its shape, as a captured table's
		t.Shape = h.shape
	}
	for i, c := range h.cols {
		t.Columns = append(t.Columns, LineageColumn{Name: c.Name, TypeOID: c.TypeOID, TypeName: c.TypeName, Attnum: h.attnum(i)})
	}
	return t
}

// LineageUnsaved says the state LineageChanged returned was not saved: the
// next call returns it again. Reader goroutine only.
func (rs *Rules) LineageUnsaved() {
	if rs.lineage != nil {
		rs.lineage.changed, rs.lineage.reshaped = true, true
	}
}
