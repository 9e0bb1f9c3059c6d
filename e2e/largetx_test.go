package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestLargeTransactionBoundedMemory: one transaction inserts 1,000,000 rows
// of about 100 bytes; all 1,000,000 events arrive (distinct ce_ids of one
// commit, ordinals 1..1,000,000 matching ids 1..1,000,000) while the relay's
// peak RSS (VmHWM) stays under 250 MB with the default in-flight limits.
//
// Not parallel: it loads both cores for a minute or more.
func TestLargeTransactionBoundedMemory(t *testing.T) {
	const rows = 1_000_000
	const maxRSS = 250 << 20
	dsn, brokers, conn := newTestDB(t, `CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);`+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.big", markerTable)
	r := startRelay(t, cfg)

	start := time.Now()
	mustExec(t, conn, `INSERT INTO big (id, payload)
		SELECT g, md5(g::text) || md5((g * 7)::text) || repeat('x', 36) FROM generate_series(1, $1) g`, rows)
	t.Logf("inserted %d rows in one transaction in %s", rows, time.Since(start).Round(time.Millisecond))

	// Let the relay work alone, then read: catch up on the marker topic only.
	mcol := newCollector(t, brokers, cfg.topic(markerTable))
	catchUp(t, cfg, conn, mcol, mcol, 4*time.Minute)
	t.Logf("relay acknowledged all rows %s after the insert began; peak RSS %d MB",
		time.Since(start).Round(time.Millisecond), r.peakRSS()>>20)
	col := newCollector(t, brokers, cfg.topic("public.big"))
	cnt := newBigCounter(t, rows)
	col.handle = cnt.add
	col.readToEnd(2 * time.Minute)
	t.Logf("consumed %d records (%d distinct) by %s", cnt.records, cnt.distinct, time.Since(start).Round(time.Millisecond))

	if cnt.distinct != rows {
		t.Errorf("%d distinct events, want %d", cnt.distinct, rows)
	}
	if cnt.bad > 0 {
		t.Errorf("%d records were not the insert of row id = ordinal of one transaction (first: %s)", cnt.bad, cnt.firstBad)
	}
	if peak := r.peakRSS(); peak >= maxRSS || peak == 0 {
		t.Errorf("walrelay peak RSS (VmHWM) %d MB, want under %d MB", peak>>20, maxRSS>>20)
	}
	if code, took := r.term(); code != 0 {
		t.Errorf("walrelay exit code %d %s after SIGTERM, want 0", code, took)
	}
}

// bigCounter checks the big table's records without keeping them: each is
// the insert of row id N with ordinal N in one transaction.
type bigCounter struct {
	t        *testing.T
	seen     []bool
	commit   pglogrepl.LSN
	records  int
	distinct int
	bad      int
	firstBad string
}

func newBigCounter(t *testing.T, rows int) *bigCounter {
	return &bigCounter{t: t, seen: make([]bool, rows+1)}
}

func (c *bigCounter) add(kr *kgo.Record) {
	c.records++
	r, err := parseBig(kr)
	switch {
	case err != nil:
	case c.commit != 0 && r.Commit != c.commit:
		err = errorf("commit LSN %s, earlier records had %s", r.Commit, c.commit)
	case int(r.Ordinal) >= len(c.seen):
		err = errorf("ordinal %d out of range", r.Ordinal)
	}
	if err != nil {
		c.bad++
		if c.firstBad == "" {
			c.firstBad = err.Error()
		}
		return
	}
	c.commit = r.Commit
	if !c.seen[r.Ordinal] {
		c.seen[r.Ordinal] = true
		c.distinct++
	}
}

// parseBig parses a record fully only every 1000th ordinal (key and ce_id
// always), to keep a million records cheap to check.
func parseBig(kr *kgo.Record) (*rec, error) {
	r := &rec{KeyRaw: kr.Key}
	var id string
	for _, h := range kr.Headers {
		if h.Key == "ce_id" {
			id = string(h.Value)
		}
	}
	commit, ord, err := parseEventID(id)
	if err != nil {
		return nil, err
	}
	r.Commit, r.Ordinal = commit, ord
	if key, err := canonicalKey(kr.Key); err != nil || key != "id="+itoa(int64(ord)) {
		return nil, errorf("ce_id %s has key %s, want {\"id\":%d}", id, kr.Key, ord)
	}
	if ord%1000 != 1 {
		return r, nil
	}
	full, err := parseRecord(kr)
	if err != nil {
		return nil, err
	}
	if full.Env.Op != "c" || mustInt(full.Env.After["id"]) != int64(ord) || len(fmt.Sprint(full.Env.After["payload"])) != 100 {
		return nil, errorf("ce_id %s: op %s after %v", id, full.Env.Op, full.Env.After)
	}
	return full, nil
}
