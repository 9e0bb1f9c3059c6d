package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestLineageStoppedChangeLogged: a captured table whose columns were
// added, dropped or retyped while walrelay was stopped is logged at info
// at the next start ("relation changed while stopped", with the names),
// whether a rule masks columns of it or not (the audit saw only a debug
// "relation registered" line with JSON); a table that did not change is
// not, and a change already logged is not logged again at the start after.
// A table renamed as well is named by its name now, with the saved one as
// "formerly" (auditc6: the line named it by its old name).
func TestLineageStoppedChangeLogged(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE st_plain (id int PRIMARY KEY, a text, b int);
		CREATE TABLE st_same (id int PRIMARY KEY, a text);
		CREATE TABLE st_masked (id int PRIMARY KEY, email text, gone text)`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const src = "rules:\n  - tables: [\"public.st_p*\", public.st_same]\n  - tables: [public.st_masked]\n    columns: {mask: [email]}\n"
	parse := func() *filter.Rules {
		rs, err := filter.Parse("rules.yaml", []byte(src), "salt")
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	dir := t.TempDir()
	first := &filterState{current: parse(), dataDir: dir}
	for _, tc := range []struct {
		table string
		cols  []string
	}{{"st_plain", []string{"id int4", "a text", "b int4"}}, {"st_same", []string{"id int4", "a text"}},
		{"st_masked", []string{"id int4", "email text", "gone text"}}} {
		rel := &event.Relation{Schema: "public", Table: tc.table, Version: 1}
		if err := db.QueryRow(ctx, "SELECT $1::regclass::oid", tc.table).Scan(&rel.OID); err != nil {
			t.Fatal(err)
		}
		row := make([]any, len(tc.cols))
		for i, c := range tc.cols {
			name, typ, _ := strings.Cut(c, " ")
			rel.Columns = append(rel.Columns, event.Column{Name: name, TypeName: typ, TypeOID: map[string]uint32{"int4": 23, "text": 25}[typ]})
			row[i] = map[string]any{"int4": int32(1), "text": "x"}[typ]
		}
		rel.Columns[0].Key = true
		if _, err := first.apply(&event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1, Relation: rel, After: row}, zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.saveLineage(true, zerolog.Nop()); err != nil { // the session ends
		t.Fatal(err)
	}

	// Stopped: st_plain gains c, b becomes bigint and it is renamed
	// st_pnew; st_masked loses gone.
	testenv.ExecDSN(t, dsn, `ALTER TABLE st_plain ADD COLUMN c int; ALTER TABLE st_plain ALTER COLUMN b TYPE bigint;
		ALTER TABLE st_plain RENAME TO st_pnew; ALTER TABLE st_masked DROP COLUMN gone`)
	start := func() ([]map[string]any, *filter.Rules) {
		var buf bytes.Buffer
		s := &session{cfg: &config.Config{DataDir: dir}, db: db, log: zerolog.New(&buf)}
		rules := parse()
		if err := s.seedLineage(ctx, rules); err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if l != "" && json.Unmarshal([]byte(l), &m) == nil && m["message"] == StoppedChangeMessage {
				lines = append(lines, m)
			}
		}
		return lines, rules
	}
	lines, rules := start()
	want := map[string]string{
		"public.st_pnew":   `info public.st_plain 3 4 [c] <nil> [b]`,
		"public.st_masked": `info <nil> 3 2 <nil> [gone] <nil>`,
	}
	if len(lines) != len(want) {
		t.Errorf("%d %q lines, want %d (st_plain, st_masked): %v", len(lines), StoppedChangeMessage, len(want), lines)
	}
	for _, m := range lines {
		got := strings.Join([]string{stoppedField(m["level"]), stoppedField(m["formerly"]), stoppedField(m["columns_before"]), stoppedField(m["columns"]), stoppedField(m["added"]), stoppedField(m["dropped"]), stoppedField(m["retyped"])}, " ")
		if w, ok := want[stoppedField(m["table"])]; !ok || got != w {
			t.Errorf("%s: level, formerly, columns before and now, added, dropped, retyped = %s, want %q", m["table"], got, w)
		}
	}

	// The next start, no relation of the tables seen in between: no table
	// is reported again.
	if err := (&filterState{current: rules, dataDir: dir}).saveLineage(true, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	lines, _ = start()
	if len(lines) > 0 {
		t.Errorf("second start: %v, want no %q line", lines, StoppedChangeMessage)
	}
}

func stoppedField(v any) string {
	if l, ok := v.([]any); ok {
		s := make([]string, len(l))
		for i, x := range l {
			s[i] = stoppedField(x)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	if v == nil {
		return "<nil>"
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}
