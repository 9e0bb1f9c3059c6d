package filter

import (
	"strconv"
	"strings"

	"github.com/walrelay/walrelay/event"
)

// versions hands out the relations the encoder sees. With rules, the same
// relation version can reach the encoder under different column lists (two
// rules project it differently, or a reload changes its exclusions), and the
// encoder derives schemas per (OID, Version). So every relation the filter
// passes on comes from here, with a Version unique per OID for each distinct
// (decoder relation, column list) pair. Reader goroutine only.
type versions struct {
	rels map[versionKey]*event.Relation
	last map[uint32]int // newest Version handed out per OID
}

type versionKey struct {
	orig *event.Relation
	sig  string // key order, projected column names, masked and key ones marked
}

func newVersions() *versions {
	return &versions{rels: map[versionKey]*event.Relation{}, last: map[uint32]int{}}
}

// relation returns the registered relation for orig projected to cols,
// with key order keyOrder (event.Relation.KeyOrder of the projection).
func (v *versions) relation(orig *event.Relation, cols []event.Column, masked []bool, keyOrder []int) *event.Relation {
	k := versionKey{orig: orig, sig: signature(cols, masked, keyOrder)}
	if r, ok := v.rels[k]; ok {
		return r
	}
	r := *orig
	r.Columns, r.KeyOrder = cols, keyOrder
	v.last[orig.OID]++
	r.Version = v.last[orig.OID]
	v.rels[k] = &r
	return &r
}

func signature(cols []event.Column, masked []bool, keyOrder []int) string {
	var b strings.Builder
	for _, i := range keyOrder {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(',')
	}
	b.WriteByte(0)
	for i, c := range cols {
		b.WriteString(c.Name)
		if masked[i] {
			b.WriteString("\x01m")
		}
		if c.Key {
			b.WriteString("\x01k")
		}
		b.WriteByte(0)
	}
	return b.String()
}

// Succeed makes rs continue prev's relation versions and column history.
// Call it when rs replaces prev in a running session (SIGHUP), before rs's
// first Apply, so that one (OID, Version) never reaches the encoder with two
// column lists, and a masked column renamed under prev is still seen as
// renamed (see Inherit).
func (rs *Rules) Succeed(prev *Rules) {
	if prev != nil {
		rs.versions = prev.versions
		rs.Inherit(prev)
	}
}

// Inherit makes rs continue prev's column history only: the renames seen
// under prev (and the rules before it). Call it when rs, loaded for a new
// session of the same process (its encoder starts afresh, so its relation
// versions need not continue), replaces prev, before rs's first Apply.
// Without it, a masked column renamed before the session restarted, whose
// rule still masks the old name, is published unmasked by rs wherever the
// file passes CheckWhere (a glob rule whose other tables have the old
// name); with it, rs halts on it as prev did. prev may be nil or rs.
func (rs *Rules) Inherit(prev *Rules) {
	if prev != nil && prev.lineage != nil {
		rs.lineage = prev.lineage
	}
}
