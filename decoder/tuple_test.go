package decoder

import (
	"testing"

	"github.com/walrelay/walrelay/event"
)

var (
	absent = event.Absent{}
	unavl  = event.Unavailable{}
)

// TestToastAndIdentity covers unchanged TOAST values and old tuples under
// each replica identity, on public.orders(id key, qty, note).
func TestToastAndIdentity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		msg        []byte
		op         event.Op
		wantBefore []any
		wantAfter  []any
	}{
		{
			name:      "DEFAULT update, key unchanged: no old tuple, TOAST unavailable",
			msg:       updateMsg(ordersOID, 0, nil, []tv{txt("1"), txt("6"), toast}),
			op:        event.OpUpdate,
			wantAfter: []any{int64(1), int32(6), unavl},
		},
		{
			name:       "DEFAULT update changing the key: K tuple, others Absent",
			msg:        updateMsg(ordersOID, 'K', []tv{txt("1"), null, null}, []tv{txt("2"), txt("6"), toast}),
			op:         event.OpUpdate,
			wantBefore: []any{int64(1), absent, absent},
			wantAfter:  []any{int64(2), int32(6), unavl},
		},
		{
			name:       "FULL update: TOAST value taken from the old tuple",
			msg:        updateMsg(ordersOID, 'O', []tv{txt("1"), txt("5"), txt("long")}, []tv{txt("1"), txt("6"), toast}),
			op:         event.OpUpdate,
			wantBefore: []any{int64(1), int32(5), "long"},
			wantAfter:  []any{int64(1), int32(6), "long"},
		},
		{
			name:       "FULL update: NULLs in the old tuple stay nil",
			msg:        updateMsg(ordersOID, 'O', []tv{txt("1"), null, null}, []tv{txt("1"), txt("6"), null}),
			op:         event.OpUpdate,
			wantBefore: []any{int64(1), nil, nil},
			wantAfter:  []any{int64(1), int32(6), nil},
		},
		{
			name:       "FULL update: old tuple itself unavailable",
			msg:        updateMsg(ordersOID, 'O', []tv{txt("1"), txt("5"), toast}, []tv{txt("1"), txt("6"), toast}),
			op:         event.OpUpdate,
			wantBefore: []any{int64(1), int32(5), unavl},
			wantAfter:  []any{int64(1), int32(6), unavl},
		},
		{
			name:       "DEFAULT delete: key tuple",
			msg:        deleteMsg(ordersOID, 'K', txt("3"), null, null),
			op:         event.OpDelete,
			wantBefore: []any{int64(3), absent, absent},
		},
		{
			name:       "FULL delete: whole old tuple",
			msg:        deleteMsg(ordersOID, 'O', txt("3"), null, txt("x")),
			op:         event.OpDelete,
			wantBefore: []any{int64(3), nil, "x"},
		},
		{
			name:      "insert with NULL",
			msg:       insertMsg(ordersOID, txt("4"), null, txt("")),
			op:        event.OpCreate,
			wantAfter: []any{int64(4), nil, ""},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := New(Options{})
			rs := feed(t, d, ordersRel('d'), beginMsg(1, 1, commitAt), tc.msg)
			c := rs[2].Changes[0]
			if c.Op != tc.op {
				t.Fatalf("op %v, want %v", c.Op, tc.op)
			}
			checkValues(t, "Before", c.Before, tc.wantBefore)
			checkValues(t, "After", c.After, tc.wantAfter)
		})
	}
}

func TestKeyTupleUnderIndexIdentity(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	// REPLICA IDENTITY USING INDEX on (qty, note): flags mark those columns.
	rel := relMsg(ordersOID, "public", "orders", 'i',
		wcol{0, "id", 20, -1}, wcol{1, "qty", 23, -1}, wcol{1, "note", 25, -1})
	rs := feed(t, d, rel, beginMsg(1, 1, commitAt), deleteMsg(ordersOID, 'K', null, txt("5"), txt("n")))
	if got, want := rs[2].Changes[0].Before, []any{absent, int32(5), "n"}; !equalValue(got, want) {
		t.Fatalf("Before = %#v, want %#v", got, want)
	}
}

// checkValues compares a Before/After slice; want nil means the slice must be
// nil.
func checkValues(t *testing.T, what string, got, want []any) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s = %#v, want nil", what, got)
		}
		return
	}
	if got == nil || !equalValue(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
