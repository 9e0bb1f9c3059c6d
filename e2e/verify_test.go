package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// problems collects verification failures and reports the first few in
// full and the total count, so one bug does not print 50,000 lines.
type problems struct {
	t     *testing.T
	what  string
	n     int
	shown int
}

func (p *problems) add(format string, args ...any) {
	p.t.Helper()
	p.n++
	if p.shown < 25 {
		p.shown++
		p.t.Errorf("%s: "+format, append([]any{p.what}, args...)...)
	}
}

func (p *problems) done() {
	p.t.Helper()
	if p.n > p.shown {
		p.t.Errorf("%s: %d problems in total (first %d shown)", p.what, p.n, p.shown)
	}
}

// streamStats summarises what verifyWorkload read.
type streamStats struct {
	records, unique, dups, changes, tombstones, keys int
}

// verifyWorkload checks the workload topics of col against the ledger: after
// dropping duplicate ce_ids, each key's records are exactly its committed
// changes in commit order (op, version, note; before images where Postgres
// sends them), each delete directly followed by its tombstone, nothing from
// rolled-back work, all of a key in the partition murmur2 gives, and ce_ids
// increasing; duplicates carry the same change.
func verifyWorkload(t *testing.T, cfg *relayConfig, col *collector, w *workload) streamStats {
	t.Helper()
	p := &problems{t: t, what: "stream"}
	defer p.done()
	tableOf := map[string]int{}
	for i, tb := range wlTables {
		tableOf[cfg.topic("public."+tb.name)] = i
	}
	var mine []*rec
	for _, r := range col.recs {
		if _, ok := tableOf[r.Topic]; ok {
			mine = append(mine, r)
		}
	}
	uniq, dups, conflicts := dedupe(mine)
	for _, c := range conflicts {
		p.add("duplicate ce_id with different content: %s", c)
	}
	st := streamStats{records: len(mine), unique: len(uniq), dups: dups}
	groups := groupByKey(p, col, uniq, tableOf, &st)
	exp := w.expected()
	seen := map[gk]bool{}
	for k, es := range exp {
		g := gk{k.table, k.String()}
		seen[g] = true
		checkKey(p, k, es, groups[g])
	}
	for g, rs := range groups {
		if !seen[g] {
			p.add("%s key %s: %d records for a key no committed transaction wrote (first ce_id %s op %s)",
				wlTables[g.table].name, g.key, len(rs), rs[0].ID, opOf(rs[0]))
		}
	}
	st.keys = len(groups)
	return st
}

// gk identifies a key of a workload table.
type gk struct {
	table int
	key   string
}

// groupByKey checks each record's envelope, key columns and partition, counts
// it in st and groups the records by key, keeping their order.
func groupByKey(p *problems, col *collector, uniq []*rec, tableOf map[string]int, st *streamStats) map[gk][]*rec {
	p.t.Helper()
	groups := map[gk][]*rec{}
	parts := map[string]int{}
	badKeys, firstBadKey := map[string]int{}, map[string]string{}
	for _, r := range uniq {
		tb := wlTables[tableOf[r.Topic]]
		checkEnvelope(p, r, tb.name)
		if keyColumnSet(r) != pkColumns(tb) {
			if badKeys[r.Topic] == 0 {
				firstBadKey[r.Topic] = fmt.Sprintf("%s key %s", r.ID, abbrev(string(r.KeyRaw)))
			}
			badKeys[r.Topic]++
		}
		if r.Tombstone {
			st.tombstones++
		} else {
			st.changes++
		}
		if _, ok := parts[r.Topic]; !ok {
			parts[r.Topic] = col.partitions(r.Topic)
		}
		if want := javaPartition(r.Topic, r.WireKey, parts[r.Topic]); int(r.Partition) != want {
			p.add("%s key %s in partition %d, murmur2 gives %d", r.Topic, r.KeyRaw, r.Partition, want)
		}
		g := gk{tableOf[r.Topic], r.Key}
		groups[g] = append(groups[g], r)
	}
	for tp, n := range badKeys {
		p.add("%s: %d records whose key is not the primary key (%s), first %s",
			tp, n, pkColumns(wlTables[tableOf[tp]]), firstBadKey[tp])
	}
	return groups
}

// checkEnvelope checks the fields every change record carries.
func checkEnvelope(p *problems, r *rec, table string) {
	p.t.Helper()
	if r.Headers["ce_specversion"] != "1.0" || r.Headers["ce_source"] == "" || r.Headers["ce_type"] == "" {
		p.add("%s: CloudEvents headers %v", r.ID, r.Headers)
	}
	if r.Tombstone {
		return
	}
	e := r.Env
	s := e.Source
	if s.Connector != "postgresql" || s.Schema != "public" || s.Table != table || s.Snapshot != "false" || s.LSN <= 0 || s.TxID <= 0 {
		p.add("%s: source %+v (want connector postgresql, public.%s, snapshot false, lsn and txId set)", r.ID, s, table)
	}
	if e.Transaction == nil || e.Transaction.ID != fmt.Sprintf("%d:%d", s.TxID, uint64(r.Commit)) ||
		e.Transaction.TotalOrder != int64(r.Ordinal) || e.Transaction.DataCollectionOrder < 1 {
		p.add("%s: transaction %+v does not match txId %d, commit LSN %s, ordinal %d", r.ID, e.Transaction, s.TxID, r.Commit, r.Ordinal)
	}
}

// checkKey compares one key's records with its committed changes.
func checkKey(p *problems, k wlKey, es []entry, rs []*rec) {
	p.t.Helper()
	t := wlTables[k.table]
	var want []string
	for _, e := range es {
		switch {
		case e.op != 'd':
			want = append(want, fmt.Sprintf("%c%d", e.op, e.version))
		case t.full:
			want = append(want, fmt.Sprintf("d%d", e.version), "T")
		default: // the old tuple holds only the key
			want = append(want, "d", "T")
		}
	}
	var got []string
	for _, r := range rs {
		got = append(got, describe(r))
	}
	if !reflect.DeepEqual(got, want) {
		p.add("%s key %s: records %v, committed %v", t.name, k, got, want)
		return
	}
	for i, r := range rs {
		if i > 0 && !idAfter(r, rs[i-1]) {
			p.add("%s key %s: ce_id %s after %s", t.name, k, r.ID, rs[i-1].ID)
		}
		if r.Partition != rs[0].Partition {
			p.add("%s key %s: records in partitions %d and %d", t.name, k, rs[0].Partition, r.Partition)
		}
		if r.Tombstone {
			if i == 0 || rs[i-1].Tombstone || rs[i-1].Env.Op != "d" || r.ID != rs[i-1].ID+"-T" {
				p.add("%s key %s: tombstone %s does not directly follow its delete", t.name, k, r.ID)
			}
			continue
		}
		checkImages(p, k, r)
	}
}

// describe renders a record as op and version ("u3", "d3"), "T" for a
// tombstone and "d" for a delete whose before image has no version
// (REPLICA IDENTITY DEFAULT: non-key columns are null).
func describe(r *rec) string {
	if r.Tombstone {
		return "T"
	}
	img := r.Env.After
	if r.Env.Op == "d" {
		img = r.Env.Before
	}
	if v := img["version"]; v != nil {
		return fmt.Sprintf("%s%v", r.Env.Op, v)
	}
	return r.Env.Op
}

// checkImages checks note, key columns and the before image of one change.
func checkImages(p *problems, k wlKey, r *rec) {
	p.t.Helper()
	t := wlTables[k.table]
	e := r.Env
	if e.Op == "d" {
		if e.After != nil {
			p.add("%s: delete with after %v", r.ID, e.After)
		}
		if keyString(keyCols(e.Before, t)) != k.String() {
			p.add("%s: delete before %v does not hold key %s", r.ID, e.Before, k)
		}
		if !t.full && (e.Before["version"] != nil || e.Before["note"] != nil) {
			p.add("%s: delete before %v under REPLICA IDENTITY DEFAULT should hold only the key (other columns null)", r.ID, e.Before)
		}
		return
	}
	v := mustInt(e.After["version"])
	if e.After["note"] != k.note(int32(v)) || keyString(keyCols(e.After, t)) != k.String() {
		p.add("%s: after %v, want note %q and key %s", r.ID, e.After, k.note(int32(v)), k)
	}
	switch {
	case e.Op == "c" || !t.full:
		if e.Before != nil {
			p.add("%s: op %s on %s has before %v, want null", r.ID, e.Op, t.name, e.Before)
		}
	default:
		if mustInt(e.Before["version"]) != v-1 || e.Before["note"] != k.note(int32(v-1)) {
			p.add("%s: update before %v, want version %d", r.ID, e.Before, v-1)
		}
	}
}

// checkWorkloadDB compares the tables' final rows with the ledger.
func checkWorkloadDB(t *testing.T, dsn string, w *workload) {
	t.Helper()
	p := &problems{t: t, what: "ledger vs database"}
	defer p.done()
	conn := connect(t, dsn)
	live := map[wlKey]int32{}
	for i, tb := range wlTables {
		tenant := "0"
		if tb.composite {
			tenant = "tenant"
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		rows, err := conn.Query(ctx, "SELECT "+tenant+", id, version FROM "+tb.name)
		if err != nil {
			cancel()
			t.Fatalf("read %s: %v", tb.name, err)
		}
		for rows.Next() {
			var k wlKey
			var v int32
			if err := rows.Scan(&k.tenant, &k.id, &v); err != nil {
				t.Fatalf("read %s: %v", tb.name, err)
			}
			k.table = i
			live[k] = v
		}
		cancel()
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", tb.name, err)
		}
	}
	for k, es := range w.expected() {
		last := es[len(es)-1]
		v, ok := live[k]
		switch {
		case last.op == 'd' && ok:
			p.add("%s %s deleted per ledger, in the table with version %d", wlTables[k.table].name, k, v)
		case last.op != 'd' && (!ok || v != last.version):
			p.add("%s %s at version %d per ledger, table has %d (present %v)", wlTables[k.table].name, k, last.version, v, ok)
		}
		delete(live, k)
	}
	for k, v := range live {
		p.add("%s %s (version %d) in the table but not in the ledger", wlTables[k.table].name, k, v)
	}
}

// keyCols returns the key columns of an image.
func keyCols(img map[string]any, t wlTable) map[string]any {
	m := map[string]any{"id": img["id"]}
	if t.composite {
		m["tenant"] = img["tenant"]
	}
	return m
}

func mustInt(v any) int64 {
	var n int64
	_, _ = fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

func opOf(r *rec) string {
	if r.Tombstone {
		return "tombstone"
	}
	return r.Env.Op
}

// idAfter reports whether b's ce_id sorts before a's (commit LSN, ordinal,
// then the tombstone after its change).
func idAfter(a, b *rec) bool {
	if a.Commit != b.Commit {
		return a.Commit > b.Commit
	}
	if a.Ordinal != b.Ordinal {
		return a.Ordinal > b.Ordinal
	}
	return a.Tombstone && !b.Tombstone
}

// javaPartition is the partition the Java client's default partitioner
// picks for a key: murmur2(key) & 0x7fffffff % n.
func javaPartition(topic string, key []byte, n int) int {
	return kgo.StickyKeyPartitioner(nil).ForTopic(topic).Partition(&kgo.Record{Key: key}, n)
}

// noTopics checks that no topic with prefix exists besides want.
func noOtherTopics(t *testing.T, col *collector, prefix string, want []string) {
	t.Helper()
	ok := map[string]bool{}
	for _, w := range want {
		ok[w] = true
	}
	for _, tp := range col.topicsWithPrefix(prefix) {
		if !ok[tp] {
			t.Errorf("unexpected topic %s (only %s are captured)", tp, strings.Join(want, ", "))
		}
	}
}

// pkColumns names a workload table's primary key columns, sorted.
func pkColumns(t wlTable) string {
	if t.composite {
		return "id,tenant"
	}
	return "id"
}

// keyColumnSet names the columns of a record's key, sorted.
func keyColumnSet(r *rec) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.KeyRaw, &m); err != nil {
		return "(not an object)"
	}
	cols := make([]string, 0, len(m))
	for c := range m {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return strings.Join(cols, ",")
}
