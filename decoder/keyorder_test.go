package decoder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

const stockOID = 5151

// stockRel is the Relation message of inv.stock(sku text, wh int4, qty int4)
// with sku and wh flagged as the identity: pgoutput's flags for PRIMARY KEY
// (wh, sku), which name the key's columns but not their order.
func stockRel(ident byte) []byte {
	qtyFlag := byte(0)
	if ident == event.IdentityFull {
		qtyFlag = 1
	}
	return relMsg(stockOID, "inv", "stock", ident,
		wcol{1, "sku", pgtype.TextOID, -1}, wcol{1, "wh", pgtype.Int4OID, -1}, wcol{qtyFlag, "qty", pgtype.Int4OID, -1})
}

// keyOrderNames names rel's key columns as KeyColumns orders them.
func keyOrderNames(rel *event.Relation) string {
	var ks []string
	for _, i := range rel.KeyColumns() {
		ks = append(ks, rel.Columns[i].Name)
	}
	return strings.Join(ks, ",")
}

// TestKeyOrderFollowsIndex: the Debezium audit's D1. A composite key is
// ordered as its index orders it (the primary key under DEFAULT and FULL,
// the replica identity index under INDEX), not in column order.
func TestKeyOrderFollowsIndex(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ident byte
		pk    []string
		ri    []string
		want  string
	}{
		{"DEFAULT: primary key (wh, sku)", event.IdentityDefault, []string{"wh", "sku"}, nil, "wh,sku"},
		{"DEFAULT: primary key in column order", event.IdentityDefault, []string{"sku", "wh"}, nil, "sku,wh"},
		{"INDEX: the replica identity index, not the primary key", event.IdentityIndex, []string{"sku", "wh"}, []string{"wh", "sku"}, "wh,sku"},
		{"FULL: primary key (wh, sku)", event.IdentityFull, []string{"wh", "sku"}, nil, "wh,sku"},
		{"FULL: primary key (qty, sku, wh)", event.IdentityFull, []string{"qty", "sku", "wh"}, nil, "qty,sku,wh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := &fakeKeys{pk: map[uint32][]string{stockOID: tc.pk}, ri: map[uint32][]string{stockOID: tc.ri}}
			d := New(Options{Keys: keys})
			res := feed(t, d, stockRel(tc.ident), beginMsg(1, 1, commitAt),
				insertMsg(stockOID, txt("s1"), txt("1"), txt("10")), commitMsg(1, 2, commitAt))
			rel := res[2].Changes[0].Relation
			if got := keyOrderNames(rel); got != tc.want {
				t.Fatalf("key order %q, want %q", got, tc.want)
			}
			if tc.want == "sku,wh" && rel.KeyOrder != nil {
				t.Fatalf("KeyOrder %v for a key in column order, want nil", rel.KeyOrder)
			}
		})
	}
}

// TestKeyOrderChangeMakesVersion: a primary key re-created over the same
// columns in another order leaves pgoutput's message unchanged; the decoder
// must read the order again and make a new version only when it changed.
func TestKeyOrderChangeMakesVersion(t *testing.T) {
	t.Parallel()
	keys := &fakeKeys{pk: map[uint32][]string{}}
	d := New(Options{Keys: keys})
	steps := []struct {
		name    string
		pk      []string
		version int
		key     string
	}{
		{"PRIMARY KEY (wh, sku)", []string{"wh", "sku"}, 1, "wh,sku"},
		{"unchanged: no new version", []string{"wh", "sku"}, 1, "wh,sku"},
		{"re-created as PRIMARY KEY (sku, wh)", []string{"sku", "wh"}, 2, "sku,wh"},
		{"unchanged again", []string{"sku", "wh"}, 2, "sku,wh"},
		{"back to (wh, sku)", []string{"wh", "sku"}, 3, "wh,sku"},
	}
	for i, st := range steps {
		keys.set(stockOID, st.pk...)
		calls := keys.calls
		n := uint64(2 * i)
		res := feed(t, d, stockRel('d'), beginMsg(n+1, uint32(i+1), commitAt),
			insertMsg(stockOID, txt("s"), txt("1"), txt("1")), commitMsg(n+1, n+2, commitAt))
		rel := res[2].Changes[0].Relation
		if rel.Version != st.version || keyOrderNames(rel) != st.key {
			t.Fatalf("%s: version %d key %q, want version %d key %q", st.name, rel.Version, keyOrderNames(rel), st.version, st.key)
		}
		if keys.calls != calls+1 {
			t.Fatalf("%s: %d primary-key look-ups for one Relation message, want 1", st.name, keys.calls-calls)
		}
	}
}

// TestKeyOrderLookupError: a failed look-up of a composite key's order fails
// the Relation message with an error naming the table and LSN.
func TestKeyOrderLookupError(t *testing.T) {
	t.Parallel()
	keys := &fakeKeys{pk: map[uint32][]string{}, err: errors.New("connection reset")}
	d := New(Options{Keys: keys})
	_, err := d.Decode(context.Background(), 0x700, stockRel('d'))
	if err == nil || !strings.Contains(err.Error(), "inv.stock") || !strings.Contains(err.Error(), "0/700") ||
		!strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("error %v, want one naming inv.stock, LSN 0/700 and the cause", err)
	}
}

// TestKeyOrderRowDecoder: the snapshot's relation (NewRowDecoder) gets the
// order the stream's does, so snapshot and stream keys are the same bytes.
func TestKeyOrderRowDecoder(t *testing.T) {
	t.Parallel()
	keys := &fakeKeys{pk: map[uint32][]string{stockOID: {"wh", "sku"}}}
	m, err := pglogrepl.Parse(stockRel('d'))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := NewRowDecoder(context.Background(), Options{Keys: keys}, m.(*pglogrepl.RelationMessage))
	if err != nil {
		t.Fatal(err)
	}
	if got := rd.Relation().KeyColumns(); !slices.Equal(got, []int{1, 0}) {
		t.Fatalf("snapshot relation KeyColumns %v, want [1 0] (wh, sku)", got)
	}
}

// TestKeyOrderCatalogRace: the catalog's answer may predate or follow the
// message (DDL racing the decoder). KeyOrder always lists exactly the Key
// columns: names the message does not flag are ignored, flagged columns the
// catalog does not name follow in column order.
func TestKeyOrderCatalogRace(t *testing.T) {
	t.Parallel()
	cols := []event.Column{{Name: "a", Key: true}, {Name: "b"}, {Name: "c", Key: true}, {Name: "d", Key: true}}
	for _, tc := range []struct {
		names []string
		want  []int
	}{
		{[]string{"d", "c", "a"}, []int{3, 2, 0}},
		{[]string{"a", "c", "d"}, nil},
		{nil, nil},
		{[]string{"d"}, []int{3, 0, 2}},
		{[]string{"b", "d", "x", "d"}, []int{3, 0, 2}},
	} {
		if got := keyOrder(cols, tc.names); !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("keyOrder(%v) = %v, want %v", tc.names, got, tc.want)
		}
	}
}

// TestPGKeyOrder reads the order from a real catalog, through the stream
// (pgoutput's flags plus the Catalog's look-ups) and the Catalog itself.
func TestPGKeyOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := startPGStream(t, ctx, `CREATE TABLE S.stock (sku text, wh int, qty int, bin int NOT NULL, PRIMARY KEY (wh, sku));
CREATE TABLE S.byidx (sku text NOT NULL, wh int NOT NULL, qty int, PRIMARY KEY (sku));
CREATE UNIQUE INDEX byidx_ri ON S.byidx (qty, wh, sku);
ALTER TABLE S.byidx ALTER qty SET NOT NULL;
ALTER TABLE S.byidx REPLICA IDENTITY USING INDEX byidx_ri;
CREATE TABLE S.full (sku text, wh int, qty int, PRIMARY KEY (wh, sku));
ALTER TABLE S.full REPLICA IDENTITY FULL`, "stock", "byidx", "full")
	cat := NewCatalog(s.conn)
	s.dec = New(Options{Types: cat, Keys: cat})
	s.exec(fmt.Sprintf("INSERT INTO %s.stock VALUES ('s1', 1, 10, 7)", s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.byidx VALUES ('s1', 1, 10)", s.schema))
	s.exec(fmt.Sprintf("INSERT INTO %s.full VALUES ('s1', 1, 10)", s.schema))
	changes := s.collect(ctx, 3)
	want := map[string]string{"stock": "wh,sku", "byidx": "qty,wh,sku", "full": "wh,sku"}
	for _, ch := range changes {
		if got := keyOrderNames(ch.Relation); got != want[ch.Relation.Table] {
			t.Errorf("%s: key order %q, want %q", ch.Relation.Table, got, want[ch.Relation.Table])
		}
	}
	var oid uint32
	if err := s.conn.QueryRow(ctx, "SELECT $1::regclass::oid", s.schema+".byidx").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	pk, err := cat.PrimaryKey(ctx, oid)
	if err != nil || !slices.Equal(pk, []string{"sku"}) {
		t.Errorf("PrimaryKey = %v, %v; want [sku]", pk, err)
	}
	ri, err := cat.IdentityIndex(ctx, oid)
	if err != nil || !slices.Equal(ri, []string{"qty", "wh", "sku"}) {
		t.Errorf("IdentityIndex = %v, %v; want [qty wh sku]", ri, err)
	}
}
