package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

const snapMarksDDL = `CREATE SCHEMA archive;
CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL);
CREATE TABLE archive.orders_2024 (id int PRIMARY KEY, amount numeric(10,2) NOT NULL);
CREATE TABLE public.refunds (id int PRIMARY KEY, amount numeric(10,2) NOT NULL);
INSERT INTO public.orders VALUES (1, 10.50), (2, 200), (100, 160), (800, 8.00);
INSERT INTO public.orders SELECT i, 101 + i % 2 FROM generate_series(1000, 1299) i;
INSERT INTO public.orders VALUES (1300, 1);
INSERT INTO archive.orders_2024 VALUES (900, 1000);
INSERT INTO public.refunds SELECT i, 1 FROM generate_series(1, 250) i;`

// The README's Filter rules example's where, over three tables; refunds
// (read last) has only rows it drops.
const snapMarksRules = `
default: drop
rules:
  - tables: [public.orders, archive.orders_2024, public.refunds]
    where: 'op == "delete" || row.amount > 100'
    topic: PREFIX.orders_all
`

// TestSnapshotMarksAfterWhere: with rules whose where drops a table's
// first and last rows (and every row of the table read last), the
// snapshot markers still land on the records published (the audit's
// finding: no "last" at all, a table without its first/last markers):
// exactly one "first" and one "last" (sent after the other reads), by plan
// order; orders' first and last published rows carry the table's markers.
// The same with tables and their chunks read in parallel
// (snapshot.parallelism), as Debezium, reading tables one by one, marks
// them. The read events' source.txId is not that
// of the transaction streamed after the snapshot.
func TestSnapshotMarksAfterWhere(t *testing.T) {
	t.Parallel()
	for _, par := range []int{1, 4} {
		t.Run(fmt.Sprintf("parallelism %d", par), func(t *testing.T) {
			t.Parallel()
			testSnapshotMarksAfterWhere(t, par)
		})
	}
}

func testSnapshotMarksAfterWhere(t *testing.T, parallelism int) {
	dsn, brokers, conn := newTestDB(t, snapMarksDDL)
	cfg := newRelayConfig(t, dsn, brokers)
	useRules(t, cfg, snapMarksRules)
	// Plan order is (schema, name): archive.orders_2024, orders (4 chunks),
	// refunds (3 chunks).
	cfg.set("snapshot.parallelism", parallelism)
	cfg.set("snapshot.chunk_size", 100)
	startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO public.orders VALUES (7, 700)")
	const wantReads = 1 + 2 + 300
	col := newCollector(t, brokers, cfg.TopicPrefix+".orders_all")
	col.waitFor(time.Minute, "the read events and the insert", func() bool { return len(col.recs) >= wantReads+1 })
	col.readToEnd(30 * time.Second)

	marks := map[string][]string{}
	var reads []*rec
	var insert *rec
	for _, r := range col.recs {
		switch {
		case r.Env == nil:
			t.Fatalf("record %s: %s", r.ID, r.Value)
		case r.Env.Op == "r":
			reads = append(reads, r)
			if m := r.Env.Source.Snapshot; m != "true" {
				marks[m] = append(marks[m], r.Env.Source.Table+"/"+fmtAny(r.Env.After["id"]))
			}
		case r.Env.Op == "c":
			insert = r
		}
	}
	var got []string
	for m, keys := range marks {
		sort.Strings(keys)
		got = append(got, m+"="+strings.Join(keys, ","))
	}
	sort.Strings(got)
	// archive 900 is first (the first table's only published read; its
	// table's last too, which ranks lower); orders 2 is its table's first
	// published, orders 1299 its last and the snapshot's last (refunds
	// publishes nothing).
	want := "first=orders_2024/900 first_in_data_collection=orders/2 last=orders/1299"
	if len(reads) != wantReads || strings.Join(got, " ") != want {
		t.Errorf("%d read events (want %d), markers\n got %s\nwant %s", len(reads), wantReads, strings.Join(got, " "), want)
	}
	checkLastSentLast(t, reads)
	if insert == nil {
		t.Fatal("the insert after the snapshot was not published")
	}
	for _, r := range reads {
		if r.Env.Source.TxID == insert.Env.Source.TxID {
			t.Errorf("read event %s has source.txId %d, the txId of the insert streamed after the snapshot",
				r.ID, r.Env.Source.TxID)
		}
	}
}

// checkLastSentLast fails t unless the read marked "last" is the last read
// of its partition (order across partitions is not kept).
func checkLastSentLast(t *testing.T, reads []*rec) {
	t.Helper()
	lastOf := map[int32]*rec{}
	for _, r := range reads {
		if l := lastOf[r.Partition]; l == nil || r.Offset > l.Offset {
			lastOf[r.Partition] = r
		}
	}
	for _, r := range reads {
		if l := lastOf[r.Partition]; r.Env.Source.Snapshot == "last" && l != r {
			t.Errorf("read %s, marked last, was sent before read %s of its partition", r.ID, l.ID)
		}
	}
}
