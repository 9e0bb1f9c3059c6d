package pipeline

import (
	"math/big"
	"testing"

	"github.com/walrelay/walrelay/event"
)

func TestSplitKeyChange(t *testing.T) {
	t.Parallel()
	rel := &event.Relation{Schema: "public", Table: "t", Columns: []event.Column{
		{Name: "id", Key: true}, {Name: "v"}}}
	tx := &event.Tx{CommitLSN: 0x100}
	upd := func(before, after []any) *event.Change {
		return &event.Change{Op: event.OpUpdate, Tx: tx, Ordinal: 3, Relation: rel, Before: before, After: after}
	}
	cases := []struct {
		name   string
		ch     *event.Change
		wantOp []event.Op
	}{
		{"insert", &event.Change{Op: event.OpCreate, Tx: tx, Relation: rel, After: []any{int32(1), "a"}}, []event.Op{event.OpCreate}},
		{"update without old row", upd(nil, []any{int32(1), "b"}), []event.Op{event.OpUpdate}},
		{"full identity, same key", upd([]any{int32(1), "a"}, []any{int32(1), "b"}), []event.Op{event.OpUpdate}},
		{"key changed", upd([]any{int32(1), event.Absent{}}, []any{int32(2), "b"}), []event.Op{event.OpDelete, event.OpCreate}},
		{"decimal key same", upd([]any{event.Decimal{Unscaled: big.NewInt(150), Scale: 2}, "a"},
			[]any{event.Decimal{Unscaled: big.NewInt(150), Scale: 2}, "b"}), []event.Op{event.OpUpdate}},
		{"bytea key changed", upd([]any{[]byte{1}, "a"}, []any{[]byte{2}, "a"}), []event.Op{event.OpDelete, event.OpCreate}},
	}
	for _, tc := range cases {
		parts := []*event.Change{tc.ch}
		if del, ins, split := splitKeyChange(tc.ch); split {
			parts = []*event.Change{del, ins}
		} else if del != nil || ins != nil {
			t.Errorf("%s: not split, yet halves returned", tc.name)
		}
		if len(parts) != len(tc.wantOp) {
			t.Errorf("%s: %d parts, want %d", tc.name, len(parts), len(tc.wantOp))
			continue
		}
		for i, p := range parts {
			if p.Op != tc.wantOp[i] {
				t.Errorf("%s: part %d op %c, want %c", tc.name, i, p.Op, tc.wantOp[i])
			}
		}
		if len(parts) == 2 {
			del, ins := parts[0], parts[1]
			if del.After != nil || del.Before == nil || ins.Before != nil || ins.After == nil {
				t.Errorf("%s: rows not split: %+v %+v", tc.name, del, ins)
			}
			if del.ID() != "0000000000000100-00000003" || ins.ID() != "0000000000000100-00000003-C" {
				t.Errorf("%s: ids %s %s", tc.name, del.ID(), ins.ID())
			}
			if tc.ch.Op != event.OpUpdate || tc.ch.IDSuffix != "" {
				t.Errorf("%s: the original change was modified", tc.name)
			}
		}
	}
}
