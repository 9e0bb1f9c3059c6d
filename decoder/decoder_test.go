package decoder

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

var commitAt = time.Date(2024, 5, 6, 7, 8, 9, 123000, time.UTC)

const ordersOID = 16384

// ordersRel is public.orders(id int8 key, qty int4, note text).
func ordersRel(ident byte) []byte {
	return relMsg(ordersOID, "public", "orders", ident,
		wcol{1, "id", pgtype.Int8OID, -1},
		wcol{0, "qty", pgtype.Int4OID, -1},
		wcol{0, "note", pgtype.TextOID, -1},
	)
}

// feed decodes msgs at LSNs 100, 200, ... and fails the test on an error.
func feed(t *testing.T, d *Decoder, msgs ...[]byte) []Result {
	t.Helper()
	var out []Result
	for i, m := range msgs {
		r, err := d.Decode(context.Background(), event.LSN(100*(i+1)), m)
		if err != nil {
			t.Fatalf("message %d (%q): %v", i, m[0], err)
		}
		out = append(out, r)
	}
	return out
}

func TestTransactionFlow(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	const final, end = 0x1000, 0x1100
	rs := feed(t, d,
		ordersRel('d'),
		beginMsg(final, 77, commitAt),
		insertMsg(ordersOID, txt("1"), txt("5"), txt("a")),
		insertMsg(ordersOID, txt("2"), null, txt("b")),
		commitMsg(final, end, commitAt),
	)
	if rs[0].Kind != KindNone {
		t.Fatalf("Relation: kind %v, want none", rs[0].Kind)
	}
	if rs[1].Kind != KindBegin || rs[1].Tx.Xid != 77 || rs[1].Tx.CommitLSN != final || !rs[1].Tx.CommitTime.Equal(commitAt) {
		t.Fatalf("Begin: %+v tx %+v", rs[1], rs[1].Tx)
	}
	for i, r := range rs[2:4] {
		if r.Kind != KindChanges || len(r.Changes) != 1 || r.Tx != rs[1].Tx {
			t.Fatalf("insert %d: %+v", i, r)
		}
		c := r.Changes[0]
		if c.Op != event.OpCreate || c.Ordinal != uint32(i+1) || c.CollectionOrder != uint32(i+1) ||
			c.LSN != event.LSN(300+100*i) || c.Tx != rs[1].Tx || c.Before != nil || c.Relation.Table != "orders" {
			t.Fatalf("insert %d: change %+v", i, c)
		}
	}
	if got := rs[3].Changes[0].After; !equalValue(got, []any{int64(2), nil, "b"}) {
		t.Fatalf("second insert After = %#v", got)
	}
	if rs[4].Kind != KindCommit || rs[4].EndLSN != end || rs[4].Tx != rs[1].Tx {
		t.Fatalf("Commit: %+v", rs[4])
	}
	if id := rs[3].Changes[0].ID(); id != "0000000000001000-00000002" {
		t.Fatalf("event ID %s", id)
	}
}

func TestCollectionOrderPerRelation(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	other := relMsg(16390, "public", "items", 'd', wcol{1, "id", pgtype.Int4OID, -1})
	rs := feed(t, d, ordersRel('d'), other,
		beginMsg(10, 1, commitAt),
		insertMsg(ordersOID, txt("1"), txt("1"), txt("x")),
		insertMsg(16390, txt("1")),
		insertMsg(ordersOID, txt("2"), txt("1"), txt("x")),
		commitMsg(10, 20, commitAt),
		beginMsg(30, 2, commitAt),
		insertMsg(16390, txt("2")),
		commitMsg(30, 40, commitAt),
	)
	want := []struct{ idx, ord, coll int }{{3, 1, 1}, {4, 2, 1}, {5, 3, 2}, {8, 1, 1}}
	for _, w := range want {
		c := rs[w.idx].Changes[0]
		if c.Ordinal != uint32(w.ord) || c.CollectionOrder != uint32(w.coll) {
			t.Errorf("message %d: ordinal %d order %d, want %d %d", w.idx, c.Ordinal, c.CollectionOrder, w.ord, w.coll)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	other := relMsg(16390, "public", "items", 'd', wcol{1, "id", pgtype.Int4OID, -1})
	rs := feed(t, d, ordersRel('d'), other, beginMsg(10, 1, commitAt),
		insertMsg(ordersOID, txt("1"), txt("1"), txt("x")),
		truncateMsg(1, ordersOID, 16390))
	r := rs[4]
	if r.Kind != KindChanges || len(r.Changes) != 2 {
		t.Fatalf("truncate result %+v", r)
	}
	for i, c := range r.Changes {
		if c.Op != event.OpTruncate || c.Ordinal != uint32(i+2) || c.Before != nil || c.After != nil || c.LSN != 500 {
			t.Fatalf("truncate change %d: %+v", i, c)
		}
	}
	if r.Changes[0].Relation.Table != "orders" || r.Changes[0].CollectionOrder != 2 ||
		r.Changes[1].Relation.Table != "items" || r.Changes[1].CollectionOrder != 1 {
		t.Fatalf("truncate relations/orders: %+v %+v", r.Changes[0], r.Changes[1])
	}
}

func TestLogicalMessages(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	content := []byte("payload")
	rs := feed(t, d,
		logicalMsg(false, 0x500, "heartbeat", content),
		beginMsg(0x900, 3, commitAt),
		logicalMsg(true, 0x800, "events", []byte("a")),
		logicalMsg(true, 0x810, "other", []byte("b")),
		logicalMsg(true, 0x820, "events", []byte("c")),
		commitMsg(0x900, 0x950, commitAt),
	)
	s := rs[0]
	if s.Kind != KindStandalone || s.EndLSN != 0x500 || s.Tx.Xid != 0 || s.Tx.CommitLSN != 0x500 || len(s.Changes) != 1 {
		t.Fatalf("standalone: %+v", s)
	}
	c := s.Changes[0]
	if c.Op != event.OpMessage || c.Ordinal != 1 || c.Tx != s.Tx || c.Message.Prefix != "heartbeat" ||
		string(c.Message.Content) != "payload" || c.Message.Transactional || c.Relation != nil {
		t.Fatalf("standalone change %+v %+v", c, c.Message)
	}
	content[0] = 'X' // the decoder copied the content out of the caller's buffer
	if string(c.Message.Content) != "payload" {
		t.Fatalf("message content aliases the input buffer")
	}
	for i, w := range []struct{ ord, coll uint32 }{{1, 1}, {2, 1}, {3, 2}} {
		c := rs[2+i].Changes[0]
		if rs[2+i].Kind != KindChanges || c.Ordinal != w.ord || c.CollectionOrder != w.coll || !c.Message.Transactional || c.Tx != rs[1].Tx {
			t.Fatalf("transactional message %d: %+v", i, c)
		}
	}
}

func TestOriginAndTypeMessagesProduceNothing(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	rs := feed(t, d, beginMsg(1, 1, commitAt), originMsg(5, "node1"), typeMsg(16500, "public", "mood"))
	if rs[1].Kind != KindNone || rs[2].Kind != KindNone {
		t.Fatalf("origin/type: %+v %+v", rs[1], rs[2])
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   [][]byte
		msg     []byte
		wantSub string
	}{
		{"unknown relation", [][]byte{beginMsg(1, 1, commitAt)}, insertMsg(999, txt("1")), "unknown relation OID 999"},
		{"change outside tx", [][]byte{ordersRel('d')}, insertMsg(ordersOID, txt("1"), txt("1"), txt("x")), "outside a transaction"},
		{"commit without begin", nil, commitMsg(1, 2, commitAt), "without a Begin"},
		{"commit LSN mismatch", [][]byte{beginMsg(1, 1, commitAt)}, commitMsg(2, 3, commitAt), "began with final LSN 0/1"},
		{"nested begin", [][]byte{beginMsg(1, 1, commitAt)}, beginMsg(2, 2, commitAt), "while xid 1 is open"},
		{"wrong column count", [][]byte{ordersRel('d'), beginMsg(1, 1, commitAt)}, insertMsg(ordersOID, txt("1")), "tuple has 1 columns"},
		{"bad value", [][]byte{ordersRel('d'), beginMsg(1, 1, commitAt)}, insertMsg(ordersOID, txt("x"), txt("1"), txt("x")), `column "id"`},
		{"binary value", [][]byte{ordersRel('d'), beginMsg(1, 1, commitAt)}, insertMsg(ordersOID, tv{'b', "\x00"}, txt("1"), txt("x")), "binary"},
		{"truncated", nil, beginMsg(1, 1, commitAt)[:10], "truncated"},
		{"empty", nil, []byte{}, "empty"},
		{"stream start (v2)", nil, []byte{'S', 0, 0, 0, 1, 1}, "unsupported"},
		{"transactional message outside tx", nil, logicalMsg(true, 5, "p", nil), "outside a transaction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := New(Options{})
			feed(t, d, tc.setup...)
			_, err := d.Decode(context.Background(), 0xABC, tc.msg)
			if err == nil || !strings.Contains(err.Error(), tc.wantSub) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantSub)
			}
			if !strings.Contains(err.Error(), "0/ABC") {
				t.Fatalf("err = %v does not name the LSN 0/ABC", err)
			}
		})
	}
}

func TestErrorLeavesTransactionUsable(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	feed(t, d, ordersRel('d'), beginMsg(1, 1, commitAt))
	if _, err := d.Decode(context.Background(), 5, insertMsg(ordersOID, txt("x"), txt("1"), txt("x"))); err == nil {
		t.Fatal("want an error")
	}
	rs := feed(t, d, insertMsg(ordersOID, txt("1"), txt("1"), txt("x")))
	if rs[0].Changes[0].Ordinal != 1 {
		t.Fatalf("ordinal after a failed change = %d, want 1", rs[0].Changes[0].Ordinal)
	}
}

func TestResetDropsOpenTransaction(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	feed(t, d, ordersRel('d'), beginMsg(1, 1, commitAt), insertMsg(ordersOID, txt("1"), txt("1"), txt("x")))
	d.Reset()
	rs := feed(t, d, beginMsg(1, 1, commitAt), insertMsg(ordersOID, txt("1"), txt("1"), txt("x")))
	if rs[1].Changes[0].Ordinal != 1 || rs[1].Changes[0].Relation.Version != 1 {
		t.Fatalf("after Reset: %+v", rs[1].Changes[0])
	}
}

// TestEmptyLogicalMessageIsNotNil: a message emitted with empty content
// has empty, non-nil content. A nil content becomes a record with a null
// value, a tombstone that on a compacted topic deletes every earlier
// message of the prefix (they share the key).
func TestEmptyLogicalMessageIsNotNil(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	rs := feed(t, d,
		logicalMsg(false, 0x500, "heartbeat", nil),
		beginMsg(0x900, 3, commitAt),
		logicalMsg(true, 0x800, "events", []byte{}),
		commitMsg(0x900, 0x950, commitAt),
	)
	for _, i := range []int{0, 2} {
		c := rs[i].Changes[0].Message.Content
		if c == nil || len(c) != 0 {
			t.Errorf("result %d: content %#v, want empty and non-nil", i, c)
		}
	}
}
