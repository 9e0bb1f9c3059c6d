package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// keyState is the last record of a key in Kafka.
type keyState struct {
	id       string // ce_id
	op       string // c, u, d, r; "T" for a tombstone
	version  string
	note     string
	snapshot string
}

// snapState folds the snapshot tests' topics into the last record per key
// (keyed tables) and the multiset of seq values (snap_log), without keeping
// the records: a million of them would not fit a test's memory budget.
type snapState struct {
	t         *testing.T
	cfg       *relayConfig
	keys      map[string]map[string]*keyState // table -> key -> last record
	logSeqs   map[string]int                  // snap_log seq -> records
	reads     map[string]int                  // table -> op r records
	readKeys  map[string]map[string]int       // table -> key -> op r records
	lasts     []string                        // ce_ids of records with source.snapshot "last"
	fields    map[string]map[string]string    // table -> op -> sorted field names of after
	disorder  []string                        // keys whose ce_ids went backwards (exact snapshots only)
	records   int
	unparsed  int
	snapLSNs  map[string]int // commit LSN part of r ce_ids -> records
	checkIDUp bool
}

func newSnapState(t *testing.T, cfg *relayConfig, checkIDUp bool) *snapState {
	s := &snapState{t: t, cfg: cfg, keys: map[string]map[string]*keyState{}, logSeqs: map[string]int{},
		reads: map[string]int{}, readKeys: map[string]map[string]int{}, fields: map[string]map[string]string{},
		snapLSNs: map[string]int{}, checkIDUp: checkIDUp}
	for _, tb := range snapTables {
		s.keys[tb.name] = map[string]*keyState{}
		s.readKeys[tb.name] = map[string]int{}
		s.fields[tb.name] = map[string]string{}
	}
	return s
}

// snapCollector consumes the snapshot tables' topics into a snapState.
func snapCollector(t *testing.T, cfg *relayConfig, st *snapState) *collector {
	var topics []string
	for _, tb := range snapTables {
		topics = append(topics, cfg.topic("public."+tb.name))
	}
	col := newCollector(t, cfg.Brokers, topics...)
	col.handle = st.add
	return col
}

func (s *snapState) add(kr *kgo.Record) {
	s.records++
	r, err := parseRecord(kr)
	if err != nil {
		s.unparsed++
		if s.unparsed <= 5 {
			s.t.Errorf("unparsable record %s[%d]@%d: %v", kr.Topic, kr.Partition, kr.Offset, err)
		}
		return
	}
	table := strings.TrimPrefix(r.Topic, s.cfg.TopicPrefix+".public.")
	ks := &keyState{id: r.ID, op: "T"}
	if !r.Tombstone {
		ks.op, ks.snapshot = r.Env.Op, r.Env.Source.Snapshot
		img := r.Env.After
		if ks.op == "d" {
			img = r.Env.Before
		}
		ks.version, ks.note = fmtAny(img["version"]), fmtAny(img["note"])
		if ks.op == "r" {
			s.reads[table]++
			s.snapLSNs[r.Commit.String()]++
			if r.Key != "null" {
				s.readKeys[table][r.Key]++
			}
		}
		if ks.snapshot == "last" {
			s.lasts = append(s.lasts, r.ID)
		}
		if ks.op == "r" || ks.op == "c" {
			s.fields[table][ks.op] = fieldNames(r.Env.After)
		}
	}
	if table == "snap_log" {
		if !r.Tombstone && r.Env.After != nil {
			s.logSeqs[fmtAny(r.Env.After["seq"])]++
		}
		return
	}
	prev := s.keys[table][r.Key]
	if s.checkIDUp && prev != nil && !(r.Tombstone && prev.id+"-T" == r.ID) && prev.id > r.ID {
		if len(s.disorder) < 10 {
			s.disorder = append(s.disorder, fmt.Sprintf("%s %s: %s after %s", table, r.Key, r.ID, prev.id))
		}
	}
	s.keys[table][r.Key] = ks
}

func fieldNames(m map[string]any) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// verifyFinalState compares the last record of every key with the row in
// the database: a row that exists is the last record's after image (version
// and note); a key whose row is gone ends with a delete or its tombstone.
// snap_log's seq values in Kafka are exactly the table's. It returns the
// number of rows checked.
func (s *snapState) verifyFinalState(conn *pgx.Conn) int {
	t := s.t
	t.Helper()
	p := &problems{t: t, what: "final state"}
	defer p.done()
	checked := 0
	for _, tb := range snapTables {
		if tb.keyless {
			checked += s.verifyLog(p, conn)
			continue
		}
		live := s.liveRows(tb, conn)
		for key, row := range live {
			checked++
			ks := s.keys[tb.name][key]
			switch {
			case ks == nil:
				p.add("%s %s (version %s) is in the table but has no record in Kafka", tb.name, key, row[0])
			case ks.op == "d" || ks.op == "T":
				p.add("%s %s (version %s) is in the table but its last record is a delete (%s)", tb.name, key, row[0], ks.id)
			case ks.version != row[0] || ks.note != row[1]:
				p.add("%s %s: last record %s op %s has version %s note %q, the row has %s %q",
					tb.name, key, ks.id, ks.op, ks.version, ks.note, row[0], row[1])
			}
		}
		for key, ks := range s.keys[tb.name] {
			if _, ok := live[key]; !ok && ks.op != "d" && ks.op != "T" {
				p.add("%s %s: last record %s op %s (version %s), but the row is gone", tb.name, key, ks.id, ks.op, ks.version)
			}
		}
	}
	return checked
}

// liveRows reads a keyed table: key -> [version, note].
func (s *snapState) liveRows(tb snapTable, conn *pgx.Conn) map[string][2]string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tenant := "0"
	if tb.composite {
		tenant = "tenant"
	}
	rows, err := conn.Query(ctx, "SELECT "+tenant+"::bigint, id, version::text, note FROM "+tb.name)
	if err != nil {
		s.t.Fatalf("read %s: %v", tb.name, err)
	}
	defer rows.Close()
	live := map[string][2]string{}
	var ten, id int64
	var version, note string
	for rows.Next() {
		if err := rows.Scan(&ten, &id, &version, &note); err != nil {
			s.t.Fatalf("read %s: %v", tb.name, err)
		}
		live[snapKey(tb, ten, id)] = [2]string{version, note}
	}
	if err := rows.Err(); err != nil {
		s.t.Fatalf("read %s: %v", tb.name, err)
	}
	return live
}

func (s *snapState) verifyLog(p *problems, conn *pgx.Conn) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, "SELECT seq::text FROM snap_log")
	if err != nil {
		s.t.Fatalf("read snap_log: %v", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		s.t.Fatalf("read snap_log: %v", err)
	}
	in := map[string]bool{}
	for _, q := range seqs {
		in[q] = true
		if s.logSeqs[q] == 0 {
			p.add("snap_log seq %s is in the table but not in Kafka", q)
		}
	}
	for q := range s.logSeqs {
		if !in[q] {
			p.add("snap_log seq %s is in Kafka but not in the table", q)
		}
	}
	return len(seqs)
}
