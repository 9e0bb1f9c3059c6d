package decoder

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

const enumRel = 30100

// moodTable is public.m(id int4 key, mood mood, moods mood[]).
func moodTable() []byte {
	return relMsg(enumRel, "public", "m", 'd',
		wcol{1, "id", pgtype.Int4OID, -1},
		wcol{0, "mood", moodOID, -1},
		wcol{0, "moods", moodArrOID, -1},
	)
}

func moodTypes(labels ...string) *fakeTypes {
	return &fakeTypes{types: map[uint32]TypeInfo{
		moodOID:    {Name: "mood", Kind: event.KindEnum, Labels: labels},
		moodArrOID: {Name: "_mood", Kind: event.KindArray, ElemOID: moodOID},
	}}
}

func TestEnumLabelsDescribeTheColumn(t *testing.T) {
	t.Parallel()
	d := New(Options{Types: moodTypes("sad", "ok", "happy")})
	rs := feed(t, d, moodTable(), beginMsg(1, 1, commitAt), insertMsg(enumRel, txt("1"), txt("ok"), txt("{sad}")))
	rel := rs[2].Changes[0].Relation
	if rel.Version != 1 || rel.Columns[1].EnumLabels != "sad,ok,happy" {
		t.Fatalf("version %d, mood labels %q", rel.Version, rel.Columns[1].EnumLabels)
	}
	if rel.Columns[2].EnumLabels != "" || rel.Columns[0].EnumLabels != "" {
		t.Fatalf("labels on a non-enum column: %+v", rel.Columns)
	}
	// Without a TypeLookup the labels are unknown, and nothing is checked.
	d = New(Options{})
	rs = feed(t, d, moodTable(), beginMsg(1, 1, commitAt), insertMsg(enumRel, txt("1"), txt("ok"), txt("{sad}")))
	if c := rs[2].Changes[0]; c.Relation.Columns[1].EnumLabels != "" || c.After[1] != "ok" {
		t.Fatalf("no lookup: labels %q, value %#v", c.Relation.Columns[1].EnumLabels, c.After[1])
	}
}

// A label added while streaming (ALTER TYPE ... ADD VALUE sends no Relation
// message) makes the decoder read the type again and publish the row under
// the relation's next version, which lists the label; the transaction's
// CollectionOrder goes on counting.
func TestEnumLabelAddedWhileStreaming(t *testing.T) {
	t.Parallel()
	types := moodTypes("sad", "ok")
	d := New(Options{Types: types})
	rs := feed(t, d, moodTable(), beginMsg(1, 1, commitAt), insertMsg(enumRel, txt("1"), txt("ok"), null))
	if v := rs[2].Changes[0].Relation.Version; v != 1 {
		t.Fatalf("first row: version %d", v)
	}
	calls := types.calls
	types.types[moodOID] = TypeInfo{Name: "mood", Kind: event.KindEnum, Labels: []string{"sad", "ok", "great"}}
	rs = feed(t, d,
		insertMsg(enumRel, txt("2"), txt("great"), null),
		updateMsg(enumRel, 0, nil, []tv{txt("2"), txt("sad"), null}),
		insertMsg(enumRel, txt("3"), txt("great"), null),
	)
	c := rs[0].Changes[0]
	if c.Relation.Version != 2 || c.Relation.Columns[1].EnumLabels != "sad,ok,great" || c.After[1] != event.Enum("great") {
		t.Fatalf("row with the new label: version %d, labels %q, value %#v",
			c.Relation.Version, c.Relation.Columns[1].EnumLabels, c.After[1])
	}
	if c.CollectionOrder != 2 || c.Ordinal != 2 {
		t.Fatalf("row with the new label: order %d ordinal %d, want 2 2", c.CollectionOrder, c.Ordinal)
	}
	if types.calls != calls+1 {
		t.Fatalf("type looked up %d times for the new label, want once", types.calls-calls)
	}
	for i, r := range rs[1:] {
		if r.Changes[0].Relation != c.Relation || r.Changes[0].CollectionOrder != uint32(3+i) {
			t.Fatalf("later row %d: version %d order %d", i, r.Changes[0].Relation.Version, r.Changes[0].CollectionOrder)
		}
	}
	if types.calls != calls+1 {
		t.Fatalf("known labels looked up again: %d calls", types.calls-calls)
	}
}

// A label the catalog does not list even when read again (renamed since the
// row was written) is published, and the type is read once for it, not per
// row.
func TestEnumLabelRenamedIsReadOnce(t *testing.T) {
	t.Parallel()
	types := moodTypes("sad", "ok")
	d := New(Options{Types: types})
	feed(t, d, moodTable(), beginMsg(1, 1, commitAt))
	calls := types.calls
	rs := feed(t, d,
		insertMsg(enumRel, txt("1"), txt("meh"), null),
		deleteMsg(enumRel, 'O', txt("1"), txt("meh"), null),
		insertMsg(enumRel, txt("2"), txt("meh"), null),
	)
	if types.calls != calls+1 {
		t.Fatalf("type looked up %d times, want once", types.calls-calls)
	}
	for i, r := range rs {
		c := r.Changes[0]
		if c.Relation.Version != 2 || c.Relation.Columns[1].EnumLabels != "sad,ok" {
			t.Fatalf("row %d: version %d labels %q", i, c.Relation.Version, c.Relation.Columns[1].EnumLabels)
		}
	}
	if v := rs[1].Changes[0].Before[1]; v != event.Enum("meh") {
		t.Fatalf("delete's old value %#v", v)
	}
}

// A Relation message in the middle of a transaction (DDL, then DML) gives a
// new version that goes on with the relation's CollectionOrder.
func TestCollectionOrderAcrossRelationChange(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	wider := relMsg(ordersOID, "public", "orders", 'd',
		wcol{1, "id", pgtype.Int8OID, -1},
		wcol{0, "qty", pgtype.Int4OID, -1},
		wcol{0, "note", pgtype.TextOID, -1},
		wcol{0, "extra", pgtype.TextOID, -1},
	)
	rs := feed(t, d, ordersRel('d'), beginMsg(10, 1, commitAt),
		insertMsg(ordersOID, txt("1"), txt("1"), txt("x")),
		wider,
		insertMsg(ordersOID, txt("2"), txt("1"), txt("x"), txt("y")),
		commitMsg(10, 20, commitAt),
		beginMsg(30, 2, commitAt),
		insertMsg(ordersOID, txt("3"), txt("1"), txt("x"), txt("y")),
	)
	first, second, next := rs[2].Changes[0], rs[4].Changes[0], rs[7].Changes[0]
	if second.Relation.Version != 2 || first.CollectionOrder != 1 || second.CollectionOrder != 2 || next.CollectionOrder != 1 {
		t.Fatalf("orders %d, %d (version %d), next transaction %d; want 1, 2 (version 2), 1",
			first.CollectionOrder, second.CollectionOrder, second.Relation.Version, next.CollectionOrder)
	}
}

// Against PostgreSQL: the labels come from pg_enum in sort order, and a
// label added with ALTER TYPE ... ADD VALUE BEFORE while streaming shows up
// in the next version's labels at its place.
func TestPGEnumLabels(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, `CREATE TYPE S.mood AS ENUM ('sad', 'happy');
CREATE TYPE S.nothing AS ENUM ();
CREATE DOMAIN S.moodd AS S.mood;
CREATE TABLE S.e (id int PRIMARY KEY, m S.mood, md S.moodd, n S.nothing)`, "e")
	s.exec(fmt.Sprintf("INSERT INTO %s.e VALUES (1, 'happy', 'sad', NULL)", s.schema))
	changes := s.collect(ctx, 1) // the types are read now
	s.exec(fmt.Sprintf("ALTER TYPE %s.mood ADD VALUE 'ok' BEFORE 'happy'", s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.e VALUES (2, 'sad', 'sad', NULL)", s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.e VALUES (3, 'happy', 'ok', NULL)", s.schema))
	s.exec(fmt.Sprintf("UPDATE %s.e SET m = 'ok' WHERE id = 1", s.schema))
	changes = append(changes, s.collect(ctx, 3)...)
	if len(changes) != 4 {
		t.Fatalf("%d changes", len(changes))
	}
	labels := func(c *event.Change) string {
		return c.Relation.Columns[1].EnumLabels + "|" + c.Relation.Columns[2].EnumLabels + "|" + c.Relation.Columns[3].EnumLabels
	}
	want := []struct {
		version int
		labels  string
	}{{1, "sad,happy|sad,happy|"}, {1, "sad,happy|sad,happy|"}, {2, "sad,ok,happy|sad,ok,happy|"}, {2, "sad,ok,happy|sad,ok,happy|"}}
	for i, w := range want {
		if c := changes[i]; c.Relation.Version != w.version || labels(c) != w.labels {
			t.Errorf("change %d: version %d labels %q, want %d %q", i, c.Relation.Version, labels(c), w.version, w.labels)
		}
	}
	checkValues(t, "third insert", changes[2].After, []any{int32(3), event.Enum("happy"), event.Enum("ok"), nil})
	checkValues(t, "update", changes[3].After, []any{int32(1), event.Enum("ok"), event.Enum("sad"), nil})
}
