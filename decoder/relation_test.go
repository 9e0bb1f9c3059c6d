package decoder

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

func TestRelationVersioning(t *testing.T) {
	t.Parallel()
	base := []wcol{{1, "id", pgtype.Int8OID, -1}, {0, "amount", pgtype.NumericOID, numericTypmod(10, 2)}}
	changed := func(f func(c []wcol)) []wcol {
		c := append([]wcol(nil), base...)
		f(c)
		return c
	}
	cases := []struct {
		name  string
		ident byte
		table string
		cols  []wcol
		bump  bool
	}{
		{"identical", 'd', "t", base, false},
		{"column renamed", 'd', "t", changed(func(c []wcol) { c[1].name = "amt" }), true},
		{"type changed", 'd', "t", changed(func(c []wcol) { c[1].oid = pgtype.Float8OID }), true},
		{"typmod changed", 'd', "t", changed(func(c []wcol) { c[1].typmod = numericTypmod(12, 2) }), true},
		{"key flag changed", 'd', "t", changed(func(c []wcol) { c[1].flags = 1 }), true},
		{"column added", 'd', "t", append(append([]wcol(nil), base...), wcol{0, "x", pgtype.TextOID, -1}), true},
		{"column dropped", 'd', "t", base[:1], true},
		{"replica identity changed", 'f', "t", base, true},
		{"table renamed", 'd', "t2", base, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := New(Options{})
			feed(t, d, relMsg(42, "public", "t", 'd', base...))
			v1 := d.rels[42].rel
			feed(t, d, relMsg(42, "public", tc.table, tc.ident, tc.cols...))
			v2 := d.rels[42].rel
			if !tc.bump {
				if v2 != v1 || v2.Version != 1 {
					t.Fatalf("identical Relation: version %d, same pointer %v", v2.Version, v2 == v1)
				}
				return
			}
			if v2 == v1 || v2.Version != 2 || v1.Version != 1 {
				t.Fatalf("changed Relation: old version %d, new version %d", v1.Version, v2.Version)
			}
			feed(t, d, relMsg(42, "public", tc.table, tc.ident, tc.cols...))
			if d.rels[42].rel != v2 {
				t.Fatal("repeating the changed Relation replaced it again")
			}
		})
	}
}

func TestRelationColumns(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	feed(t, d, relMsg(7, "s", "t", 'i',
		wcol{1, "id", pgtype.Int4OID, -1},
		wcol{0, "tags", pgtype.TextArrayOID, -1},
		wcol{0, "m", moneyOID, -1},
		wcol{0, "tz", pgtype.TimetzOID, -1},
		wcol{0, "n", pgtype.NumericOID, numericTypmod(10, 3)},
	))
	r := d.rels[7].rel
	want := []event.Column{
		{Name: "id", TypeOID: pgtype.Int4OID, TypeName: "int4", TypeMod: -1, Key: true, Kind: event.KindBase},
		{Name: "tags", TypeOID: pgtype.TextArrayOID, TypeName: "_text", TypeMod: -1, Kind: event.KindArray, ElemOID: pgtype.TextOID},
		{Name: "m", TypeOID: moneyOID, TypeName: "money", TypeMod: -1, Kind: event.KindBase},
		{Name: "tz", TypeOID: pgtype.TimetzOID, TypeName: "timetz", TypeMod: -1, Kind: event.KindBase},
		{Name: "n", TypeOID: pgtype.NumericOID, TypeName: "numeric", TypeMod: numericTypmod(10, 3), Kind: event.KindBase},
	}
	if r.Schema != "s" || r.Table != "t" || r.ReplicaIdentity != 'i' || r.OID != 7 || r.Version != 1 {
		t.Fatalf("relation %+v", r)
	}
	for i, w := range want {
		if r.Columns[i] != w {
			t.Errorf("column %d = %+v, want %+v", i, r.Columns[i], w)
		}
	}
	if got := r.KeyColumns(); len(got) != 1 || got[0] != 0 {
		t.Errorf("KeyColumns = %v", got)
	}
}

// fakeTypes is a TypeLookup over a fixed table that counts calls.
type fakeTypes struct {
	types map[uint32]TypeInfo
	err   error
	calls int
}

func (f *fakeTypes) LookupType(_ context.Context, oid uint32) (TypeInfo, error) {
	f.calls++
	if f.err != nil {
		return TypeInfo{}, f.err
	}
	info, ok := f.types[oid]
	if !ok {
		return TypeInfo{}, fmt.Errorf("oid %d: %w", oid, ErrTypeNotFound)
	}
	return info, nil
}

const (
	moodOID      = 20001
	moodArrOID   = 20002
	priceOID     = 20003
	priceArrOID  = 20004
	extOID       = 20005
	missingOID   = 20006
	domDomOID    = 20007
	loopingOID   = 20008
	userTypesRel = 30000
)

func userTypes() *fakeTypes {
	return &fakeTypes{types: map[uint32]TypeInfo{
		moodOID:     {Name: "mood", Kind: event.KindEnum},
		moodArrOID:  {Name: "_mood", Kind: event.KindArray, ElemOID: moodOID},
		priceOID:    {Name: "price", BaseOID: pgtype.NumericOID, BaseTypeMod: numericTypmod(8, 2)},
		priceArrOID: {Name: "_price", Kind: event.KindArray, ElemOID: priceOID},
		extOID:      {Name: "hstore", Kind: event.KindOther},
		domDomOID:   {Name: "posint", BaseOID: pgtype.Int4OID, BaseTypeMod: -1},
		loopingOID:  {Name: "loop", BaseOID: loopingOID},
	}}
}

func TestUserTypes(t *testing.T) {
	t.Parallel()
	types := userTypes()
	d := New(Options{Types: types})
	rs := feed(t, d,
		typeMsg(missingOID, "public", "gone"),
		relMsg(userTypesRel, "public", "u", 'd',
			wcol{1, "id", pgtype.Int4OID, -1},
			wcol{0, "mood", moodOID, -1},
			wcol{0, "moods", moodArrOID, -1},
			wcol{0, "price", priceOID, -1},
			wcol{0, "prices", priceArrOID, -1},
			wcol{0, "ext", extOID, -1},
			wcol{0, "missing", missingOID, -1},
			wcol{0, "pos", domDomOID, -1},
		),
		beginMsg(1, 1, commitAt),
		insertMsg(userTypesRel, txt("1"), txt("happy"), txt("{sad,NULL}"), txt("9.50"), txt("{1.25}"), txt(`"a"=>"b"`), txt("x"), txt("5")),
	)
	cols := d.rels[userTypesRel].rel.Columns
	wantCols := []struct {
		name  string
		oid   uint32
		kind  event.TypeKind
		elem  uint32
		mod   int32
		tname string
	}{
		{"mood", moodOID, event.KindEnum, 0, -1, "mood"},
		{"moods", moodArrOID, event.KindArray, moodOID, -1, "_mood"},
		{"price", pgtype.NumericOID, event.KindBase, 0, numericTypmod(8, 2), "numeric"},
		{"prices", priceArrOID, event.KindArray, pgtype.NumericOID, numericTypmod(8, 2), "_price"}, // the domain's base and typmod
		{"ext", extOID, event.KindOther, 0, -1, "hstore"},
		{"missing", missingOID, event.KindOther, 0, -1, "gone"},
		{"pos", pgtype.Int4OID, event.KindBase, 0, -1, "int4"},
	}
	for i, w := range wantCols {
		c := cols[i+1]
		if c.Name != w.name || c.TypeOID != w.oid || c.Kind != w.kind || c.ElemOID != w.elem || c.TypeMod != w.mod || c.TypeName != w.tname {
			t.Errorf("column %s = %+v, want %+v", w.name, c, w)
		}
	}
	want := []any{int32(1), event.Enum("happy"), []any{event.Enum("sad"), nil}, dec("950", 2),
		[]any{dec("125", 2)}, event.HStore{{Key: "a", Value: "b"}}, "x", int32(5)}
	if got := rs[3].Changes[0].After; !equalValue(got, want) {
		t.Fatalf("After = %#v\nwant %#v", got, want)
	}
	calls := types.calls
	feed(t, d, relMsg(userTypesRel+1, "public", "u2", 'd', wcol{0, "mood", moodOID, -1}))
	if types.calls != calls {
		t.Errorf("a cached type was looked up again (%d -> %d calls)", calls, types.calls)
	}
}

func TestUserTypeErrors(t *testing.T) {
	t.Parallel()
	d := New(Options{Types: &fakeTypes{err: errors.New("connection refused")}})
	_, err := d.Decode(context.Background(), 9, relMsg(5, "public", "t", 'd', wcol{0, "m", moodOID, -1}))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), `public.t (OID 5)`) ||
		!strings.Contains(err.Error(), `column "m"`) {
		t.Fatalf("lookup failure: err = %v", err)
	}
	if d.rels[5] != nil {
		t.Fatal("a failed Relation message was cached")
	}
	d = New(Options{Types: userTypes()})
	_, err = d.Decode(context.Background(), 9, relMsg(5, "public", "t", 'd', wcol{0, "l", loopingOID, -1}))
	if err == nil || !strings.Contains(err.Error(), "domain chain") {
		t.Fatalf("looping domain: err = %v", err)
	}
}

func TestNoTypeLookupDecodesText(t *testing.T) {
	t.Parallel()
	d := New(Options{})
	rs := feed(t, d, typeMsg(moodOID, "public", "mood"),
		relMsg(5, "public", "t", 'd', wcol{0, "m", moodOID, -1}),
		beginMsg(1, 1, commitAt), insertMsg(5, txt("happy")))
	c := d.rels[5].rel.Columns[0]
	if c.Kind != event.KindOther || c.TypeName != "mood" {
		t.Fatalf("column %+v", c)
	}
	if got := rs[3].Changes[0].After[0]; got != "happy" {
		t.Fatalf("value %#v", got)
	}
}
