package filter

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/walrelay/walrelay/event"
)

// lineage remembers, per table (relation OID), the columns of the newest
// relation version the filter saw and, for each of them, the names it had
// in earlier versions (the renames seen since). A rule that masks or
// excludes a column by its old name would otherwise publish the renamed
// column in plain text: renamedColumn finds that. One lineage is shared by
// the rules that succeed each other in a process (Succeed, Inherit); the
// part a restarted process needs is saved and seeded through
// LineageChanged and SeedLineage (lineage_state.go), then reconciled with
// the catalog (ReconcileLineage, lineage_reconcile.go). Reader goroutine
// only, like Apply, except knows (the start-up and SIGHUP check, any
// goroutine), which takes mu for reading: the reader goroutine takes it for
// writing when it changes tables, once per relation version, never per
// event.
type lineage struct {
	mu     sync.RWMutex
	tables map[uint32]*tableLineage
	// changed says a table was added or changed shape or name since the
	// lineage was last saved, reshaped that a known one changed, savedBy
	// which rules saved it (see Rules.LineageChanged); seq orders
	// observations.
	changed  bool
	reshaped bool
	savedBy  *Rules
	seq      uint64
	// tracked says TrackTables ran in this process (every captured table
	// is in the lineage: LineageState.Complete); seededComplete that the
	// state seeded was saved so (SeedLineage).
	tracked, seededComplete bool
	// stopped are the tables ReconcileLineage found changed since they
	// were saved (Rules.StoppedChanges).
	stopped []StoppedChange
}

// tableLineage is one table's columns and their former names.
type tableLineage struct {
	name string // schema.table when last seen (a table renamed keeps its OID)
	seen uint64 // lineage.seq at the last observation; 0: seeded from a saved state
	// saved says the table came from a saved state (SeedLineage), not from
	// this process (observe, TrackTables): see GuardResume.
	saved bool
	// moved is, for a table saved without its columns (its shape only)
	// whose columns changed while walrelay was stopped other than by drops
	// alone, which columns may now hold others' values (movedColumns): see
	// GuardResume. Set by reshape.
	moved *movedColumns
	cols  []event.Column
	// since is the LSN of the first change seen with cols (0: unknown), and
	// older says cols came with a change older than the version seen before
	// them: a change from before a rename, replayed from the checkpoint (the
	// renames it shows then undo the real ones, see renamedColumn.halt).
	since event.LSN
	older bool
	// formerly maps a column's name to the names it had before, oldest
	// first, never itself. Replaced, never modified, when a version renames
	// columns: a tableState keeps the map of its own relation version.
	formerly map[string][]string
	// attnums are cols' attnums in pg_attribute (0 or missing: unknown),
	// known from the catalog (ReconcileLineage) and carried over to the
	// columns a later version keeps or renames.
	attnums []int16
	// recon is set while cols are the catalog's, reconciled with a saved
	// state at start (ReconcileLineage), until a relation of the table is
	// seen.
	recon *reconciled
	// shape is, for a table seeded without its columns (captured, no
	// column hidden), its columns when last seen, until a relation of it
	// is seen; for one seeded with them, the catalog's columns a previous
	// start reported it with (LineageTable.Shape).
	shape []string
}

// attnum returns the attnum of h.cols[i], 0 when unknown.
func (h *tableLineage) attnum(i int) int16 {
	if i >= 0 && i < len(h.attnums) {
		return h.attnums[i]
	}
	return 0
}

func newLineage() *lineage { return &lineage{tables: map[uint32]*tableLineage{}} }

// observe records rel, seen with a change at lsn (0: unknown), as its
// table's newest version and returns the former names of its columns (nil
// when none was renamed), and whether rel came with a change older than the
// version seen before it (replayed from the checkpoint: its "renames" give
// columns the names they had before the real renames). A version whose
// column names and types equal the newest one's (a new decoder's copy after
// a session restart, a snapshot's relation) changes nothing, so a rename
// seen before a restart is still known after it. Columns are paired with
// the newest version's by matchColumns (rel as the earlier version when it
// is older): a column added under a name used before (RENAME email TO
// contact; ADD email) gets no former names, the renamed one keeps them.
func (l *lineage) observe(rel *event.Relation, lsn event.LSN) (map[string][]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	h := l.tables[rel.OID]
	if h == nil {
		l.tables[rel.OID] = &tableLineage{name: rel.QualifiedName(), seen: l.seq, cols: rel.Columns, since: lsn}
		l.changed = true
		return nil, false
	}
	h.seen = l.seq
	if name := rel.QualifiedName(); name != h.name {
		h.name, l.changed, l.reshaped = name, true, true
	}
	if h.cols == nil { // seeded with its name only (see SeedLineage): a first sight of its columns
		h.cols, h.since = rel.Columns, lsn
		l.changed = true
		return nil, false
	}
	recon := h.recon
	if h.recon = nil; recon != nil {
		l.changed, l.reshaped = true, true // the state saved is the catalog's version's from now on
	}
	if sameShape(h.cols, rel.Columns) {
		if lsn != 0 && (h.since == 0 || lsn < h.since) {
			h.since = lsn
		}
		return h.formerly, h.older
	}
	l.changed, l.reshaped = true, true
	h.older = lsn != 0 && h.since != 0 && lsn < h.since
	h.since = lsn
	var match map[string]string // rel's column name -> h.cols's
	switch {
	case h.older && recon != nil && sameShape(rel.Columns, recon.cols):
		match = invert(recon.toSaved) // the saved version, replayed: paired with the catalog's at start
	case h.older: // rel is the earlier version
		match = invert(matchColumns(rel.Columns, h.cols))
	default:
		match = matchColumns(h.cols, rel.Columns)
	}
	next := map[string][]string{}
	attnums := make([]int16, len(rel.Columns))
	for i, c := range rel.Columns {
		var names []string // none for a column added, even under a name used before
		if old, ok := match[c.Name]; ok {
			names = appendName(h.formerly[old], old)
			attnums[i] = h.attnum(slices.IndexFunc(h.cols, func(o event.Column) bool { return o.Name == old }))
		}
		if names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == c.Name }); len(names) > 0 {
			next[c.Name] = names
		}
	}
	h.cols, h.formerly, h.attnums = rel.Columns, nil, attnums
	if len(next) > 0 {
		h.formerly = next
	}
	return h.formerly, h.older
}

// names returns, for each table of tables (qualified names) that the
// lineage knows, the names of each column of its newest version: the
// column's name, then the others it had (formerly; after a replayed older
// version, the later ones). The start-up and SIGHUP check (maskProblems)
// reads it: any goroutine; nil l knows nothing.
func (l *lineage) names(tables map[string]bool) map[string][][]string {
	if l == nil {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := map[string][][]string{}
	for _, h := range l.tables {
		if !tables[h.name] {
			continue
		}
		for _, c := range h.cols {
			out[h.name] = append(out[h.name], append([]string{c.Name}, h.formerly[c.Name]...))
		}
	}
	return out
}

// invert returns m's values mapped to their keys.
func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// appendName returns names with n at the end, once.
func appendName(names []string, n string) []string {
	if slices.Contains(names, n) {
		return names
	}
	return append(slices.Clone(names), n)
}

// sameShape reports whether a and b have the same column names and types
// in the same order.
func sameShape(a, b []event.Column) bool {
	return slices.EqualFunc(a, b, func(x, y event.Column) bool { return x.Name == y.Name && sameType(x, y) })
}

func sameType(x, y event.Column) bool { return x.TypeOID == y.TypeOID && x.TypeName == y.TypeName }

// matchColumns pairs the columns of relation version cur with those of
// the earlier version old: cur name -> old name for each column of cur
// that is a column of old (kept: its own name; renamed: its old name). A
// column of cur it lacks was added. pgoutput lists columns in attnum
// order and leaves dropped ones out, PostgreSQL never reorders columns, a
// rename keeps the attnum and an added column gets a higher one than any
// other: cur is the columns of old it kept (some renamed), in their order,
// then the added ones. So a name both versions have is the same column
// only where it keeps that order (keptColumns); one that breaks it is a
// new column reusing the name of a column renamed or dropped (RENAME email
// TO contact; ADD email). A renamed column sits between the same kept
// columns as before and has the same type: pairGaps pairs them. A column
// of cur that is neither, followed by a kept one, cannot be: the kept ones
// after it are then new columns reusing names (a last column renamed and
// its name re-added: old [id, email], cur [id, contact, email]), and are
// paired again as such. What pgoutput sends cannot tell a swap of two
// names (three renames) from a drop and an add: that reads as one.
func matchColumns(old, cur []event.Column) map[string]string {
	kept := keptColumns(old, cur)
	match := pairGaps(old, cur, kept)
	for i, c := range cur {
		if _, ok := match[c.Name]; ok {
			continue
		}
		if slices.ContainsFunc(cur[i+1:], func(n event.Column) bool { return kept[n.Name] }) {
			for _, n := range cur[i+1:] {
				delete(kept, n.Name)
			}
			match = pairGaps(old, cur, kept)
		}
		break
	}
	return match
}

// keptColumns returns the names of cur that are columns of old kept under
// their name: walking cur, a name old has after the last kept one.
func keptColumns(old, cur []event.Column) map[string]bool {
	kept := map[string]bool{}
	last := -1
	for _, c := range cur {
		j := slices.IndexFunc(old, func(o event.Column) bool { return o.Name == c.Name })
		if j > last {
			kept[c.Name], last = true, j
		}
	}
	return kept
}

// pairGaps returns kept's columns paired with themselves, and the other
// columns of old paired with those of cur as renames, within each gap
// between the same kept columns, by type: a column of old pairs with the
// column of cur of its type at the same offset in the gap, else with the
// first unpaired one of its type. Columns added since come after every
// older one, so only a column of old of the last gap can pair with a new
// column by mistake (a masked column dropped and another of its type
// added between two changes): taken as a rename, it halts at worst, it
// never publishes a masked value.
func pairGaps(old, cur []event.Column, kept map[string]bool) map[string]string {
	out := map[string]string{}
	for n := range kept {
		out[n] = n
	}
	gone, appeared := gapColumns(old, kept), gapColumns(cur, kept)
	for gap, gs := range gone {
		as := appeared[gap]
		paired := make([]bool, len(as))
		for i, g := range gs {
			j := -1
			if i < len(as) && !paired[i] && sameType(as[i], g) {
				j = i
			}
			for k := 0; j < 0 && k < len(as); k++ {
				if !paired[k] && sameType(as[k], g) {
					j = k
				}
			}
			if j >= 0 {
				paired[j] = true
				out[as[j].Name] = g.Name
			}
		}
	}
	return out
}

// renamedColumns returns the renames of matchColumns: new name -> old name.
func renamedColumns(old, cur []event.Column) map[string]string {
	out := matchColumns(old, cur)
	maps.DeleteFunc(out, func(n, o string) bool { return n == o })
	return out
}

// gapColumns returns the columns of cols not kept, grouped by gap: the
// number of kept columns that come before them in cols.
func gapColumns(cols []event.Column, kept map[string]bool) map[int][]event.Column {
	out := map[int][]event.Column{}
	gap := 0
	for _, c := range cols {
		if kept[c.Name] {
			gap++
			continue
		}
		out[gap] = append(out[gap], c)
	}
	return out
}

// renamedColumn is a column rule r masks or excludes under an old name,
// renamed since and neither masked nor excluded under its new name:
// publishing it would put the values the rule hides in plain text. With
// older, the relation is a version from before the rename, replayed from
// the checkpoint: new is then the name the column had before, old the one
// it has since.
type renamedColumn struct {
	old, new string
	excluded bool // the old name is in columns.exclude (else columns.mask)
	older    bool
}

// renamedColumn returns the first column of rel (formerly: its columns'
// former names, older: rel is a replayed older version, from
// lineage.observe) that r masks or excludes only under another name the
// lineage knows for it, or nil. A new name in either list is the
// operator's decision for it.
func (r *Rule) renamedColumn(rel *event.Relation, formerly map[string][]string, older bool) *renamedColumn {
	if len(r.Mask) == 0 && len(r.Exclude) == 0 || len(formerly) == 0 {
		return nil
	}
	for _, c := range rel.Columns {
		if contains(r.Mask, c.Name) || contains(r.Exclude, c.Name) {
			continue
		}
		for _, old := range formerly[c.Name] {
			if contains(r.Mask, old) || contains(r.Exclude, old) {
				return &renamedColumn{old: old, new: c.Name, excluded: !contains(r.Mask, old), older: older}
			}
		}
	}
	return nil
}

// halt is the error that halts the pipeline: the rule, the table (in the
// RuleError), the two names, and the fix: the rule must name both, since
// the changes from before the rename and those after it may both reach it.
// An excluded column's message is the masked one's with "exclude" for
// "mask".
func (m *renamedColumn) halt(rs *Rules, r *Rule, ch *event.Change) *RuleError {
	kind, list, shown := "masked", "mask", "unmasked"
	if m.excluded {
		kind, list, shown = "excluded", "exclude", "in plain text"
	}
	what := fmt.Sprintf("%s column %q was renamed to %q, which the rule does not %s: its values would be published %s",
		kind, m.old, m.new, list, shown)
	fix := fmt.Sprintf("update columns.%s of rules[%d] to %s %q, the column's new name, and keep %q: "+
		"changes from before the rename may be replayed from the checkpoint", list, r.Index, list, m.new, m.old)
	if m.older {
		what = fmt.Sprintf("%s column %q was named %q before it was renamed, and this change from before the rename "+
			"(replayed from the checkpoint) has the old name, which the rule does not %s: its values would be published %s",
			kind, m.old, m.new, list, shown)
		fix = fmt.Sprintf("update columns.%s of rules[%d] to %s %q too, the column's name before the rename, and keep %q: "+
			"the changes from before the rename are replayed from the checkpoint", list, r.Index, list, m.new, m.old)
	}
	e := rs.ruleError(r, ch, errors.New(what), m.new, fix)
	e.Where = ""
	return e
}
