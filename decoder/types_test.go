package decoder

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// TestArrayOfDomain pins that an array of a domain is described, and its
// elements converted, as an array of the domain's base type (audit D4/D9):
// before, ElemOID was the domain's OID, which the encoders type as text.
func TestArrayOfDomain(t *testing.T) {
	t.Parallel()
	const (
		domInt4, domInt4Arr   = 21001, 21002
		domDate, domDateArr   = 21003, 21004
		money2, money2Arr     = 21005, 21006
		domDom, domDomArr     = 21007, 21008 // a domain over a domain over int8
		domInt8               = 21009
		domTextArr, domText   = 21010, 21011
		rel                   = 31000
		numeric10x2           = (10<<16 | 2) + 4
		unknownElem, unkArray = 21012, 21013
	)
	types := &fakeTypes{types: map[uint32]TypeInfo{
		domInt4:    {Name: "dom_int4", BaseOID: pgtype.Int4OID, BaseTypeMod: -1},
		domInt4Arr: {Name: "_dom_int4", Kind: event.KindArray, ElemOID: domInt4},
		domDate:    {Name: "dom_date", BaseOID: pgtype.DateOID, BaseTypeMod: -1},
		domDateArr: {Name: "_dom_date", Kind: event.KindArray, ElemOID: domDate},
		money2:     {Name: "money2", BaseOID: pgtype.NumericOID, BaseTypeMod: numeric10x2},
		money2Arr:  {Name: "_money2", Kind: event.KindArray, ElemOID: money2},
		domInt8:    {Name: "dom_int8", BaseOID: pgtype.Int8OID, BaseTypeMod: -1},
		domDom:     {Name: "dom_dom", BaseOID: domInt8, BaseTypeMod: -1},
		domDomArr:  {Name: "_dom_dom", Kind: event.KindArray, ElemOID: domDom},
		domText:    {Name: "dom_text", BaseOID: pgtype.TextOID, BaseTypeMod: -1},
		domTextArr: {Name: "_dom_text", Kind: event.KindArray, ElemOID: domText},
		unkArray:   {Name: "_gone", Kind: event.KindArray, ElemOID: unknownElem},
	}}
	d := New(Options{Types: types})
	rs := feed(t, d,
		relMsg(rel, "public", "t", 'd',
			wcol{1, "id", pgtype.Int4OID, -1},
			wcol{0, "ai", domInt4Arr, -1},
			wcol{0, "ad", domDateArr, -1},
			wcol{0, "am", money2Arr, -1},
			wcol{0, "al", domDomArr, -1},
			wcol{0, "at", domTextArr, -1},
			wcol{0, "au", unkArray, -1},
		),
		beginMsg(1, 1, commitAt),
		insertMsg(rel, txt("1"), txt("{1,NULL}"), txt("{1970-01-02,-infinity}"), txt("{1.50,NULL}"),
			txt("{9000000000}"), txt("{a}"), txt("{x}")),
	)
	cols := d.rels[rel].rel.Columns
	want := []struct {
		elem uint32
		mod  int32
	}{
		{pgtype.Int4OID, -1}, {pgtype.DateOID, -1}, {pgtype.NumericOID, numeric10x2},
		{pgtype.Int8OID, -1}, {pgtype.TextOID, -1}, {unknownElem, -1},
	}
	for i, w := range want {
		c := cols[i+1]
		if c.Kind != event.KindArray || c.ElemOID != w.elem || c.TypeMod != w.mod {
			t.Errorf("column %s = %+v, want an array of OID %d with typmod %d", c.Name, c, w.elem, w.mod)
		}
	}
	got := rs[2].Changes[0].After
	wantVals := []any{int32(1), []any{int32(1), nil}, []any{event.Date(1), "-infinity"},
		[]any{dec("150", 2), nil}, []any{int64(9000000000)}, []any{"a"}, []any{"x"}}
	if !equalValue(got, wantVals) {
		t.Fatalf("After = %#v\nwant %#v", got, wantVals)
	}
}
