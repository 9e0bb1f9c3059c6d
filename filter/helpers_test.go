package filter

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
)

// rel builds a relation "schema.table" whose columns are given as
// "name:type" ("id:int8*" marks a key column).
func rel(name string, cols ...string) *event.Relation {
	s, t, _ := strings.Cut(name, ".")
	r := &event.Relation{OID: oidOf(name), Schema: s, Table: t, ReplicaIdentity: event.IdentityDefault, Version: 1}
	for _, c := range cols {
		n, typ, _ := strings.Cut(c, ":")
		key := strings.HasSuffix(typ, "*")
		r.Columns = append(r.Columns, event.Column{Name: n, TypeName: strings.TrimSuffix(typ, "*"), TypeMod: -1, Key: key})
	}
	return r
}

func oidOf(name string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return h
}

var testTx = &event.Tx{Xid: 7, CommitLSN: 0x16B3748, CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}

// change builds a change of rel; rows are given in column order.
func change(op event.Op, r *event.Relation, before, after []any) *event.Change {
	return &event.Change{Op: op, Tx: testTx, Ordinal: 5, CollectionOrder: 1, LSN: 0x16B3700, Relation: r, Before: before, After: after}
}

func ins(r *event.Relation, row ...any) *event.Change { return change(event.OpCreate, r, nil, row) }
func upd(r *event.Relation, before, after []any) *event.Change {
	return change(event.OpUpdate, r, before, after)
}
func del(r *event.Relation, row ...any) *event.Change { return change(event.OpDelete, r, row, nil) }
func trunc(r *event.Relation) *event.Change           { return change(event.OpTruncate, r, nil, nil) }

func msg(prefix string, transactional bool, content string) *event.Change {
	return &event.Change{Op: event.OpMessage, Tx: testTx, Ordinal: 3, LSN: 0x16B3710,
		Message: &event.LogicalMessage{Transactional: transactional, Prefix: prefix, Content: []byte(content)}}
}

func dec(unscaled int64, scale int32) event.Decimal {
	return event.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
}

// mustParse parses a rules file or fails the test.
func mustParse(t *testing.T, src, salt string) *Rules {
	t.Helper()
	rs, err := Parse("rules.yaml", []byte(src), salt)
	if err != nil {
		t.Fatalf("parse:\n%s\nerror: %v", src, err)
	}
	return rs
}

// mustApply applies rs to ch or fails the test.
func mustApply(t *testing.T, rs *Rules, ch *event.Change) Decision {
	t.Helper()
	d, err := rs.Apply(ch)
	if err != nil {
		t.Fatalf("apply %s %s: %v", ch.Op, name(ch), err)
	}
	return d
}

func name(ch *event.Change) string {
	if ch.Relation == nil {
		return "message " + ch.Message.Prefix
	}
	return ch.Relation.QualifiedName()
}

func colNames(r *event.Relation) string {
	n := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		n[i] = c.Name
	}
	return strings.Join(n, ",")
}
