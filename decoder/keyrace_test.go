package decoder

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
)

const raceOID = 6161

// seqKeys is a KeyLookup whose primary key answers follow a script: call i
// gets answers[i], the last answer repeats. It stands for a catalog that
// does not show a committed DDL yet, then does.
type seqKeys struct {
	mu      sync.Mutex
	answers [][]string
	calls   int
}

func (s *seqKeys) PrimaryKey(context.Context, uint32) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	return a, nil
}

func (s *seqKeys) IdentityIndex(context.Context, uint32) ([]string, error) {
	return nil, errors.New("not under INDEX")
}

// raceRel is ax.c(id int4, pid int4, v text) under REPLICA IDENTITY DEFAULT
// with the flags of PRIMARY KEY (id) when composite is false, of a primary
// key over (pid, id) when it is true.
func raceRel(composite bool) []byte {
	pid := byte(0)
	if composite {
		pid = 1
	}
	return relMsg(raceOID, "ax", "c", 'd',
		wcol{1, "id", pgtype.Int4OID, -1}, wcol{pid, "pid", pgtype.Int4OID, -1}, wcol{0, "v", pgtype.TextOID, -1})
}

// raceTx decodes the auditor's transaction (finding 1): a row under
// PRIMARY KEY (id), the Relation message PostgreSQL sends after DROP
// CONSTRAINT c_pkey, ADD PRIMARY KEY (pid, id), and a row under the new
// key; then the next transaction, whose Relation message PostgreSQL re-sends
// after the commit's invalidation, and its row. It returns the relations of
// the post-DDL row and of the next transaction's row.
func raceTx(t *testing.T, d *Decoder) (postDDL, next *event.Relation) {
	t.Helper()
	res := feed(t, d, raceRel(false), beginMsg(0x1000, 9, commitAt),
		insertMsg(raceOID, txt("7001"), txt("7"), txt("a")),
		raceRel(true), insertMsg(raceOID, txt("7002"), txt("7"), txt("b")),
		commitMsg(0x1000, 0x1100, commitAt),
		beginMsg(0x2000, 10, commitAt), raceRel(true),
		insertMsg(raceOID, txt("7003"), txt("7"), txt("c")), commitMsg(0x2000, 0x2100, commitAt))
	return res[4].Changes[0].Relation, res[8].Changes[0].Relation
}

// TestKeyOrderWaitsForCatalog: the auditor's finding 1. The walsender
// decodes a transaction before its commit is visible, so the first catalog
// read after ADD PRIMARY KEY (pid, id) still shows PRIMARY KEY (id). The
// decoder must read again until the catalog names the flagged columns, so
// the post-DDL row gets the index order (pid, id), the order the next
// transaction gets, and one row keeps one key byte string.
func TestKeyOrderWaitsForCatalog(t *testing.T) {
	t.Parallel()
	keys := &seqKeys{answers: [][]string{{"id"}, {"id"}, {"pid", "id"}}}
	postDDL, next := raceTx(t, New(Options{Keys: keys}))
	if got := keyOrderNames(postDDL); got != "pid,id" {
		t.Fatalf("post-DDL row: key order %q, want the new index's pid,id", got)
	}
	if keyOrderNames(next) != "pid,id" || next != postDDL {
		t.Fatalf("next transaction: key %q version %d, want the post-DDL relation (pid,id, version %d) unchanged",
			keyOrderNames(next), next.Version, postDDL.Version)
	}
	if keys.calls != 4 {
		t.Fatalf("%d primary-key reads, want 4 (two stale, one current, one for the next transaction)", keys.calls)
	}
}

// TestKeyOrderCatalogStaysBehind: a catalog that never shows the flagged
// key (a later DDL already committed, or a commit kept invisible by
// synchronous replication) is read again only for keyRetryBudget; the key
// is then the flagged columns in column order, not the stale index's
// columns first. Not parallel: it shortens the package's retry budget.
func TestKeyOrderCatalogStaysBehind(t *testing.T) {
	defer func(b time.Duration) { keyRetryBudget = b }(keyRetryBudget)
	keyRetryBudget = 60 * time.Millisecond
	// Columns (pid, id): the stale PRIMARY KEY (id) first would give id,pid.
	rel := relMsg(raceOID, "ax", "c", 'd',
		wcol{1, "pid", pgtype.Int4OID, -1}, wcol{1, "id", pgtype.Int4OID, -1}, wcol{0, "v", pgtype.TextOID, -1})
	keys := &seqKeys{answers: [][]string{{"id"}}}
	var logBuf strings.Builder
	d := New(Options{Keys: keys, Log: zerolog.New(&logBuf)})
	start := time.Now()
	res := feed(t, d, rel, beginMsg(1, 1, commitAt), insertMsg(raceOID, txt("7"), txt("1"), txt("a")),
		commitMsg(1, 2, commitAt))
	took := time.Since(start)
	got := res[2].Changes[0].Relation
	if keyOrderNames(got) != "pid,id" || got.KeyOrder != nil {
		t.Fatalf("key order %q (KeyOrder %v), want column order pid,id", keyOrderNames(got), got.KeyOrder)
	}
	if took < keyRetryBudget || took > 20*keyRetryBudget {
		t.Fatalf("took %v, want about the %v budget", took, keyRetryBudget)
	}
	if keys.calls < 3 {
		t.Fatalf("%d reads within the budget, want several", keys.calls)
	}
	if !strings.Contains(logBuf.String(), "column order") {
		t.Fatalf("no warning logged: %s", logBuf.String())
	}
}

// TestKeyOrderColumnListNoWait: key columns a publication's column list
// leaves out of the message are not a mismatch: one read, no wait.
func TestKeyOrderColumnListNoWait(t *testing.T) {
	t.Parallel()
	keys := &seqKeys{answers: [][]string{{"tenant", "pid", "id"}}}
	d := New(Options{Keys: keys})
	res := feed(t, d, raceRel(true), beginMsg(1, 1, commitAt), insertMsg(raceOID, txt("7"), txt("1"), txt("a")),
		commitMsg(1, 2, commitAt))
	if got := keyOrderNames(res[2].Changes[0].Relation); got != "pid,id" || keys.calls != 1 {
		t.Fatalf("key order %q after %d reads, want pid,id after 1", got, keys.calls)
	}
}

// TestKeyOrderWaitCanceled: a context ended while waiting for the catalog
// fails the Relation message (the transaction is decoded again after a
// restart) instead of guessing the order.
func TestKeyOrderWaitCanceled(t *testing.T) {
	t.Parallel()
	d := New(Options{Keys: &seqKeys{answers: [][]string{{"id"}}}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := d.Decode(ctx, 0x700, raceRel(true))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "ax.c") {
		t.Fatalf("error %v, want the context's, naming ax.c", err)
	}
}

// TestFlagsMatch compares pgoutput's key flags with the catalog's names.
func TestFlagsMatch(t *testing.T) {
	t.Parallel()
	cols := []event.Column{{Name: "a", Key: true}, {Name: "b"}, {Name: "c", Key: true}}
	for _, tc := range []struct {
		names []string
		want  bool
	}{
		{[]string{"c", "a"}, true},
		{[]string{"a", "c", "x"}, true}, // x: not published
		{[]string{"a"}, false},
		{[]string{"a", "b", "c"}, false},
		{nil, false},
	} {
		if got := flagsMatch(cols, tc.names); got != tc.want {
			t.Errorf("flagsMatch(%v) = %v, want %v", tc.names, got, tc.want)
		}
	}
	if !slices.Equal(keyOrder(cols, []string{"c", "a", "x"}), []int{2, 0}) {
		t.Error("keyOrder ignores unpublished names")
	}
}
