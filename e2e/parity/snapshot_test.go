package main

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestIncludeList: the snapshot pass's tables give one regex that matches
// each of them and nothing else; the default pass keeps its old property.
func TestIncludeList(t *testing.T) {
	if got := includeList(tables[:4]); got != `public\.(alltypes|toasty|marker|keyed)` {
		t.Errorf("includeList(%v) = %q", tables[:4], got)
	}
	snap := &pass{snapshot: true}
	re := regexp.MustCompile(`^(?:` + includeList(snap.tables()) + `)$`)
	for _, tb := range append(snap.tables(), "public.snap_aa", "publicXsnap_a", "other.snap_a") {
		want := len(tb) > 0 && contains(snap.tables(), tb)
		if re.MatchString(tb) != want {
			t.Errorf("include regex %s matches %q = %v, want %v", re, tb, !want, want)
		}
	}
	if got := includeList([]string{"a.x", "b.y"}); got != `a\.x,b\.y` {
		t.Errorf("two schemas: %q", got)
	}
}

// TestPassTables: only the snapshot pass captures the snap_ tables, and
// appending to one pass's list does not change the shared one.
func TestPassTables(t *testing.T) {
	def := &pass{}
	if !reflect.DeepEqual(def.tables(), tables) {
		t.Errorf("default tables = %v, want %v", def.tables(), tables)
	}
	snap := &pass{snapshot: true}
	want := append(append([]string{}, tables...), "public.snap_a", "public.snap_b", "public.snap_empty", "public.zz_empty")
	if !reflect.DeepEqual(snap.tables(), want) {
		t.Errorf("snapshot tables = %v, want %v", snap.tables(), want)
	}
	n := len(tables)
	_ = append(def.tables(), "x")
	if len(tables) != n || !contains(tables, "public.x_vals") {
		t.Errorf("shared tables changed: %v", tables)
	}
	if got := topicSuffixes(snap); len(got) != n+6 || got[n+4] != "transaction" || got[n+5] != "message" {
		t.Errorf("topicSuffixes(snapshot) = %v", got)
	}
}

// TestReadCounter: each side is done after its own want-th read event;
// creates, tombstones and non-JSON values do not count.
func TestReadCounter(t *testing.T) {
	done := readCounter(2)
	read := []byte(`{"op":"r","after":{"id":1}}`)
	steps := []struct {
		r    record
		want bool
	}{
		{record{Side: "walrelay", Value: read}, false},
		{record{Side: "debezium", Value: read}, false},
		{record{Side: "walrelay", Value: []byte(`{"op":"c"}`)}, false},
		{record{Side: "walrelay", Value: nil}, false},
		{record{Side: "walrelay", Value: []byte{0, 1, 2}}, false},
		{record{Side: "walrelay", Value: read}, true},
		{record{Side: "debezium", Value: []byte(`{"op":"c"}`)}, false},
		{record{Side: "walrelay", Value: []byte(`{"op":"c"}`)}, true},
		{record{Side: "debezium", Value: read}, true},
	}
	for i, s := range steps {
		if got := done(s.r); got != s.want {
			t.Errorf("step %d (%s %s): done = %v, want %v", i, s.r.Side, s.r.Value, got, s.want)
		}
	}
}

// TestSnapshotFillRows: snapshotRows counts the rows snapshotFill writes
// (alltypes 4, toasty 2, marker 1, snap_a 5 by generate_series, snap_b 1,
// the extended tables' rows, some inserted several to a statement).
func TestSnapshotFillRows(t *testing.T) {
	series := regexp.MustCompile(`generate_series\(1, (\d+)\) g$`)
	moreRows := regexp.MustCompile(`\), \(\d+, `) // ..., (1, 'a'), (2, 'b')
	n := 0
	for _, s := range snapshotFill(columns()) {
		for _, q := range s.sqls {
			switch m := series.FindStringSubmatch(q); {
			case m != nil:
				k, _ := strconv.Atoi(m[1])
				n += k
			case strings.HasPrefix(q, "INSERT "):
				n += 1 + len(moreRows.FindAllString(q, -1))
			}
		}
	}
	if n != snapshotRows {
		t.Errorf("snapshotFill writes %d rows, snapshotRows = %d", n, snapshotRows)
	}
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}
