package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The snapshot pass: the tables are created and filled before either
// connector starts, both connectors create their own slot and take an
// initial snapshot (walrelay snapshot.mode initial with its default
// snapshot.parallelism, Debezium snapshot.mode initial), and once both have
// published every read event the end marker is inserted and streamed. Its
// read events are compared like streamed ones, paired per topic and key.

// snapshotTables are the tables the snapshot pass adds to the capture set:
// snap_a (5 rows), snap_b (1 row, composite key), snap_empty (no row, in the
// middle of the name order both connectors read in) and zz_empty (no row,
// read last), so the per-table snapshot markers (first,
// first_in_data_collection, last_in_data_collection, last) fall on
// different tables and "last" has to skip an empty last table.
var snapshotTables = []string{"public.snap_a", "public.snap_b", "public.snap_empty", "public.zz_empty"}

// snapshotSetupSQL creates the snapshot pass's extra tables and adds them to
// the publication setupSQL created.
func snapshotSetupSQL() string {
	return strings.Join([]string{
		"CREATE TABLE snap_a (id int PRIMARY KEY, name text, qty numeric(6,2))",
		"CREATE TABLE snap_b (a int, b text, v bool, PRIMARY KEY (a, b))",
		"CREATE TABLE snap_empty (id int PRIMARY KEY, x text)",
		"CREATE TABLE zz_empty (id int PRIMARY KEY)",
		"ALTER PUBLICATION " + pubName + " ADD TABLE snap_a, snap_b, snap_empty, zz_empty",
	}, ";\n")
}

// snapshotFill is what the snapshot pass writes before the connectors start,
// one transaction each: alltypes rows 1-4 (typical, edge, special, NULL),
// toasty rows 1 (12.8 kB external text) and 2, marker row 1, snap_a rows
// 1-5, snap_b one row, and extraSnapshotFill. snapshotRows counts its rows.
func snapshotFill(cols []column) []step {
	bigText := "(SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 400) g)"
	return append([]step{
		{"alltypes rows 1-4 (typical, edge, special, NULL)", []string{
			insertSQL(cols, 1, 0), insertSQL(cols, 2, 1), insertSQL(cols, 3, 2), insertSQL(cols, 4, -1),
		}},
		{"toasty rows 1 (12.8 kB external text) and 2", []string{
			"INSERT INTO toasty VALUES (1, " + bigText + ", 0, " + bigNumeric + ")",
			"INSERT INTO toasty VALUES (2, 'small', 0)",
		}},
		{"marker row 1", []string{"INSERT INTO marker VALUES (1, 'before the snapshot')"}},
		{"snap_a rows 1-5", []string{
			"INSERT INTO snap_a SELECT g, 'row ' || g, g * 1.25 FROM generate_series(1, 5) g",
		}},
		{"snap_b one row", []string{"INSERT INTO snap_b VALUES (7, 'seven', true)"}},
	}, extraSnapshotFill()...)
}

// snapshotRows is how many read events each connector publishes for
// snapshotFill: 4 alltypes + 2 toasty + 1 marker + 5 snap_a + 1 snap_b,
// and the extended tables' rows.
const snapshotRows = 13 + extraSnapshotRows

// snapshotStream is the snapshot pass's streamed workload, applied once both
// connectors published their snapshot: the end marker alone.
func snapshotStream() []step {
	return []step{{"end marker (streamed after the snapshot)", []string{
		fmt.Sprintf("INSERT INTO marker VALUES (%d, 'end')", markerEndID)}}}
}

// includeList is Debezium's table.include.list for schema-qualified tables:
// `public\.(a|b)` when they share one schema, else each quoted and joined
// by commas.
func includeList(tables []string) string {
	var names []string
	schema := ""
	for _, t := range tables {
		s, n, _ := strings.Cut(t, ".")
		if schema != "" && s != schema {
			quoted := make([]string, len(tables))
			for i, q := range tables {
				quoted[i] = regexp.QuoteMeta(q)
			}
			return strings.Join(quoted, ",")
		}
		schema = s
		names = append(names, regexp.QuoteMeta(n))
	}
	return regexp.QuoteMeta(schema) + `\.(` + strings.Join(names, "|") + ")"
}

// readCounter returns a per-record predicate for collect that reports a
// side done once it has published want snapshot read events (op "r", JSON
// values); each side is counted apart. Not safe for concurrent use (collect
// calls it from one goroutine).
func readCounter(want int) func(record) bool {
	n := map[string]int{}
	return func(r record) bool {
		if isRead(r.Value) {
			n[r.Side]++
		}
		return n[r.Side] >= want
	}
}

// isRead reports whether a JSON value is a snapshot read event (op "r").
func isRead(v []byte) bool {
	var e struct {
		Op string `json:"op"`
	}
	return v != nil && json.Unmarshal(v, &e) == nil && e.Op == "r"
}
