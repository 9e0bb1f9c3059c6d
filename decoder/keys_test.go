package decoder

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/walrelay/walrelay/event"
)

// fakeKeys is a KeyLookup whose primary keys and replica identity indexes
// the test sets, counting calls.
type fakeKeys struct {
	mu      sync.Mutex
	pk      map[uint32][]string
	ri      map[uint32][]string
	err     error
	calls   int
	riCalls int
}

func (f *fakeKeys) PrimaryKey(_ context.Context, oid uint32) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.pk[oid], f.err
}

func (f *fakeKeys) IdentityIndex(_ context.Context, oid uint32) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.riCalls++
	return f.ri[oid], f.err
}

func (f *fakeKeys) set(oid uint32, pk ...string) {
	f.mu.Lock()
	f.pk[oid] = pk
	f.mu.Unlock()
}

// fullRel is the Relation message of public.fu(id int8, k int4, x text)
// under REPLICA IDENTITY FULL: pgoutput flags every column, whatever the
// primary key.
func fullRel() []byte {
	return relMsg(4242, "public", "fu", 'f',
		wcol{1, "id", pgtype.Int8OID, -1}, wcol{1, "k", pgtype.Int4OID, -1}, wcol{1, "x", pgtype.TextOID, -1})
}

func keyColumns(rel *event.Relation) string {
	var ks []string
	for _, c := range rel.Columns {
		if c.Key {
			ks = append(ks, c.Name)
		}
	}
	return strings.Join(ks, ",")
}

// TestFullIdentityKeyFollowsCatalog: the audit's DDL defect 2. PostgreSQL
// re-sends an identical Relation message for a FULL table after ADD PRIMARY
// KEY (every column was and stays flagged); the decoder must read the key
// again and make a new version, and must not make one when the key did not
// change.
func TestFullIdentityKeyFollowsCatalog(t *testing.T) {
	t.Parallel()
	keys := &fakeKeys{pk: map[uint32][]string{}}
	d := New(Options{Keys: keys})
	insert := insertMsg(4242, txt("1"), txt("10"), txt("a"))
	steps := []struct {
		name    string
		pk      []string
		version int
		key     string
	}{
		{"no primary key", nil, 1, ""},
		{"unchanged: no new version", nil, 1, ""},
		{"ADD PRIMARY KEY (id)", []string{"id"}, 2, "id"},
		{"unchanged again", []string{"id"}, 2, "id"},
		{"primary key moved to k", []string{"k"}, 3, "k"},
		{"composite primary key", []string{"k", "id"}, 4, "id,k"},
		{"DROP CONSTRAINT of the primary key", nil, 5, ""},
	}
	for i, st := range steps {
		keys.set(4242, st.pk...)
		calls := keys.calls
		res := feed(t, d, fullRel(), beginMsg(uint64(i+1), uint32(i+1), commitAt), insert, commitMsg(uint64(i+1), uint64(i+2), commitAt))
		rel := res[2].Changes[0].Relation
		if rel.Version != st.version || keyColumns(rel) != st.key {
			t.Fatalf("%s: change has version %d key %q, want version %d key %q",
				st.name, rel.Version, keyColumns(rel), st.version, st.key)
		}
		if keys.calls == calls {
			t.Fatalf("%s: the Relation message did not look the primary key up", st.name)
		}
	}
}

// TestFullIdentityKeyLookupOnlyForFull: other identities keep pgoutput's
// flags and do not query the catalog for a repeated Relation message.
func TestFullIdentityKeyLookupOnlyForFull(t *testing.T) {
	t.Parallel()
	keys := &fakeKeys{pk: map[uint32][]string{ordersOID: {"qty"}}}
	d := New(Options{Keys: keys})
	feed(t, d, ordersRel('d'), ordersRel('d'))
	if keys.calls != 0 {
		t.Fatalf("REPLICA IDENTITY DEFAULT: %d primary-key look-ups, want 0", keys.calls)
	}
	if got := keyColumns(d.rels[ordersOID].rel); got != "id" {
		t.Fatalf("REPLICA IDENTITY DEFAULT key %q, want pgoutput's flag (id)", got)
	}
}

// TestFullIdentityKeyLookupError: a failed look-up for a repeated FULL
// Relation message is an error naming the table and LSN, and keeps the
// cached version.
func TestFullIdentityKeyLookupError(t *testing.T) {
	t.Parallel()
	keys := &fakeKeys{pk: map[uint32][]string{4242: {"id"}}}
	d := New(Options{Keys: keys})
	feed(t, d, fullRel())
	keys.err = errors.New("connection reset")
	_, err := d.Decode(context.Background(), 0x500, fullRel())
	if err == nil || !strings.Contains(err.Error(), "public.fu") || !strings.Contains(err.Error(), "0/500") ||
		!strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("error %v, want one naming public.fu, LSN 0/500 and the cause", err)
	}
	if rel := d.rels[4242].rel; rel.Version != 1 || keyColumns(rel) != "id" {
		t.Fatalf("after the error: version %d key %q, want version 1 key id", rel.Version, keyColumns(rel))
	}
}
