package pipeline

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/snapshot"
)

// markTable is one table of a test snapshot, in plan order: pass has a
// byte per row in key order, 'x' for a row the rules publish, '.' for one
// they drop.
type markTable struct{ name, pass string }

// markBatch is n rows of table t from position row.
type markBatch struct {
	t      string
	row, n int
}

// runMarks feeds the batches to snapshotMarks as the snapshot publisher
// does and returns the markers other than "true", in plan and key order, as
// "table+row:mark". It fails t unless every published row is sent exactly
// once, "last" after all others, and, once a table is read, it holds at
// most the snapshot's first or last published row.
func runMarks(t *testing.T, tables []markTable, batches []markBatch) string {
	t.Helper()
	sent := map[string]string{}
	var lastSent string
	m := newSnapshotMarks(nil, nil)
	plans := map[string]*snapshot.TablePlan{}
	var order []*snapshot.TablePlan
	for _, tb := range tables {
		p := &snapshot.TablePlan{Rows: uint64(len(tb.pass)), Relation: &event.Relation{Table: tb.name}}
		plans[tb.name] = p
		order = append(order, p)
	}
	m = newSnapshotMarks(order, func(_ context.Context, h heldRead, mark string) error {
		id := fmt.Sprintf("%s%d", h.ch.Relation.Table, h.row)
		if prev, dup := sent[id]; dup {
			t.Errorf("%s sent twice: %s, then %s", id, prev, mark)
		}
		sent[id], lastSent = mark, mark
		return nil
	})
	ctx := context.Background()
	for _, b := range batches {
		p := plans[b.t]
		for r := b.row; r < b.row+b.n; r++ {
			if pass(tables, b.t, r) {
				ch := &event.Change{Relation: p.Relation, Snapshot: markTrue}
				if err := m.passed(ctx, p, uint64(r), ch, []event.Record{{}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := m.read(ctx, p, uint64(b.row), b.n); err != nil {
			t.Fatal(err)
		}
		for _, tm := range m.tables {
			for _, h := range []*heldRead{tm.first, tm.last} {
				if h != nil && tm.done() && !(h == tm.first && tm.idx == m.minPub || h == tm.last && tm.idx == m.maxPub) {
					t.Fatalf("after %v: table %d is read and still holds row %d", b, tm.idx, h.row)
				}
			}
		}
	}
	if err := m.finish(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for id, mark := range sent {
		if mark == markLast && lastSent != markLast {
			t.Errorf("%s, marked last, was not sent after all others", id)
		}
	}
	for _, tb := range tables {
		for r := range len(tb.pass) {
			id := fmt.Sprintf("%s%d", tb.name, r)
			mark, ok := sent[id]
			switch {
			case ok != pass(tables, tb.name, r):
				t.Errorf("%s: sent %v, published %v", id, ok, !ok)
			case ok && mark != markTrue:
				got = append(got, id+":"+mark)
			}
		}
	}
	return strings.Join(got, " ")
}

func pass(tables []markTable, name string, row int) bool {
	for _, tb := range tables {
		if tb.name == name {
			return tb.pass[row] == 'x'
		}
	}
	return false
}

// inOrder reads the tables one by one, in key order, as Debezium does.
func inOrder(tables []markTable) []markBatch {
	var out []markBatch
	for _, tb := range tables {
		for r := 0; r < len(tb.pass); r += 3 {
			out = append(out, markBatch{tb.name, r, min(3, len(tb.pass)-r)})
		}
	}
	return out
}

// interleaved splits each table into chunks of chunk rows and those into
// batches of batch rows, and interleaves the chunks at random, as parallel
// readers do: a chunk's batches stay in order, nothing else does.
func interleaved(rng *rand.Rand, tables []markTable, chunk, batch int) []markBatch {
	var chunks [][]markBatch
	for _, tb := range tables {
		for c := 0; c < len(tb.pass); c += chunk {
			var bs []markBatch
			for r := c; r < min(c+chunk, len(tb.pass)); r += batch {
				bs = append(bs, markBatch{tb.name, r, min(batch, c+chunk-r, len(tb.pass)-r)})
			}
			chunks = append(chunks, bs)
		}
	}
	var out []markBatch
	for len(chunks) > 0 {
		i := rng.Intn(len(chunks))
		out = append(out, chunks[i][0])
		if chunks[i] = chunks[i][1:]; len(chunks[i]) == 0 {
			chunks = append(chunks[:i], chunks[i+1:]...)
		}
	}
	return out
}

// TestSnapshotMarksAfterRules: the markers go on the rows the rules
// publish, by plan order: "first" on the first published row of the first
// table publishing any, "last" on the last published row of the last one,
// each publishing table's first and last published rows marked, with
// Debezium's precedence, and no marker on a table publishing nothing. They
// are the same whatever order parallel readers read the tables and their
// chunks in (snapshot.parallelism), as when the tables are read one by one.
func TestSnapshotMarksAfterRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tables []markTable
		want   string
	}{{
		name:   "the audit's: a table's first and last rows dropped, the snapshot's last row too",
		tables: []markTable{{"a", "x"}, {"b", ".xx."}},
		want:   "a0:first b1:first_in_data_collection b2:last",
	}, {
		name:   "the first and last tables publish nothing",
		tables: []markTable{{"a", "...."}, {"b", ".x.xx."}, {"c", "xxx"}, {"d", ".."}},
		want: "b1:first b4:last_in_data_collection " +
			"c0:first_in_data_collection c2:last",
	}, {
		name:   "a table publishing one row: last_in_data_collection ranks first",
		tables: []markTable{{"a", "x.x"}, {"b", "..x.."}, {"c", ""}, {"d", "x..x"}},
		want: "a0:first a2:last_in_data_collection b2:last_in_data_collection " +
			"d0:first_in_data_collection d3:last",
	}, {
		name:   "a snapshot publishing one row: it is last",
		tables: []markTable{{"a", "..."}, {"b", "..x."}, {"c", "."}},
		want:   "b2:last",
	}, {
		name:   "the first table's one published row: first ranks above last_in_data_collection",
		tables: []markTable{{"a", ".x.."}, {"b", "xx"}},
		want:   "a1:first b0:first_in_data_collection b1:last",
	}, {
		name:   "every row dropped: no marker at all",
		tables: []markTable{{"a", ".."}, {"b", ""}},
		want:   "",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runMarks(t, tc.tables, inOrder(tc.tables)); got != tc.want {
				t.Fatalf("read in order:\n got %s\nwant %s", got, tc.want)
			}
			rng := rand.New(rand.NewSource(1))
			for i := range 200 {
				chunk, batch := 1+i%3, 1+i%2
				bs := interleaved(rng, tc.tables, chunk, batch)
				if got := runMarks(t, tc.tables, bs); got != tc.want {
					t.Fatalf("read as %v:\n got %s\nwant %s", bs, got, tc.want)
				}
			}
		})
	}
}

// TestSnapshotMarksHold: a row that cannot be the first or last of its
// table is sent at once; a table's first and last published rows wait for
// the earlier and later tables only until one of them publishes.
func TestSnapshotMarksHold(t *testing.T) {
	t.Parallel()
	var sent []string
	var plans []*snapshot.TablePlan
	for _, name := range []string{"a", "b", "c"} {
		plans = append(plans, &snapshot.TablePlan{Rows: 3, Relation: &event.Relation{Table: name}})
	}
	a, b, c := plans[0], plans[1], plans[2]
	m := newSnapshotMarks(plans, func(_ context.Context, h heldRead, mark string) error {
		sent = append(sent, fmt.Sprintf("%s%d:%s", h.ch.Relation.Table, h.row, mark))
		return nil
	})
	ctx := context.Background()
	pub := func(p *snapshot.TablePlan, row uint64) {
		if err := m.passed(ctx, p, row, &event.Change{Relation: p.Relation, Snapshot: markTrue}, []event.Record{{}}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p *snapshot.TablePlan, row uint64, n int) {
		if err := m.read(ctx, p, row, n); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	check := func(step string, more ...string) {
		t.Helper()
		want = append(want, more...)
		if got, want := strings.Join(sent, " "), strings.Join(want, " "); got != want {
			t.Fatalf("after %s: sent %q, want %q", step, got, want)
		}
	}
	pub(b, 0)
	pub(b, 1)
	pub(b, 2)
	check("b's rows passed", "b1:true")
	read(b, 0, 3)
	check("b read while a and c are not")
	pub(a, 1)
	check("a publishes", "b0:first_in_data_collection")
	read(a, 0, 2)
	check("a's rows up to its first published one: it may be a's last")
	read(a, 2, 1)
	check("a read", "a1:first")
	read(c, 0, 1)
	check("c's first row, dropped")
	pub(c, 1)
	check("c publishes", "b2:last_in_data_collection")
	read(c, 1, 2)
	check("c read: c1 is last, sent after all others")
	if err := m.finish(ctx); err != nil {
		t.Fatal(err)
	}
	check("the end", "c1:last")
}
