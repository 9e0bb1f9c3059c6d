package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

// stoppedLines returns the StoppedChangeMessage lines of a JSON log, as
// "table: added [..] dropped [..] retyped [..]", sorted.
func stoppedLines(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if l == "" || json.Unmarshal([]byte(l), &m) != nil || m["message"] != StoppedChangeMessage {
			continue
		}
		out = append(out, stoppedField(m["table"])+": "+stoppedField(m["level"])+" added "+stoppedField(m["added"])+
			" dropped "+stoppedField(m["dropped"])+" retyped "+stoppedField(m["retyped"]))
	}
	slices.Sort(out)
	return out
}

// TestLineageIdleTableLogged (gap left by the lineage's first version: a
// captured table no change of which had reached walrelay, an empty or idle
// one, was not saved, so a change of its columns while walrelay was
// stopped left no line): each session start saves every table the rules
// capture from the catalog, so the next start logs such a change at info,
// for a table whose columns a rule masks too; a table the rules drop is
// not logged, and the masked table's saved state holds no columns, so the
// rules still follow its renames from its first change, as before.
func TestLineageIdleTableLogged(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE tr_idle (id int PRIMARY KEY, a text, b int);
		CREATE TABLE tr_masked (id int PRIMARY KEY, email text);
		CREATE TABLE tr_same (id int PRIMARY KEY, a text);
		CREATE TABLE other (id int PRIMARY KEY, a text)`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const src = "rules:\n  - tables: [public.tr_masked]\n    columns: {mask: [email]}\n  - tables: [\"public.tr_*\"]\n"
	dir := t.TempDir()
	start := func() (string, *filter.Rules) {
		var buf bytes.Buffer
		s := &session{cfg: &config.Config{DataDir: dir}, db: db, log: zerolog.New(&buf)}
		rules, err := filter.Parse("rules.yaml", []byte(src), "salt")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.seedLineage(ctx, rules); err != nil {
			t.Fatal(err)
		}
		if err := s.trackLineage(ctx, &filterState{current: rules, dataDir: dir}, rules.Captures); err != nil {
			t.Fatal(err)
		}
		return buf.String(), rules
	}
	if log, _ := start(); len(stoppedLines(log)) > 0 { // a first start: nothing saved before
		t.Fatalf("first start: %v, want no %q line", stoppedLines(log), StoppedChangeMessage)
	}
	st, err := loadLineage(dir)
	if err != nil || st == nil {
		t.Fatalf("no column lineage saved at start (%v): the captured tables without changes are not tracked", err)
	}
	for _, tb := range st.Tables {
		if tb.Table == "public.tr_masked" && len(tb.Columns) > 0 {
			t.Errorf("masked table saved with the catalog's columns %v: the rules would take them as seen", tb.Columns)
		}
	}

	// Stopped: every table changes; none had a change walrelay saw.
	testenv.ExecDSN(t, dsn, `ALTER TABLE tr_idle ADD COLUMN c int, DROP COLUMN a; ALTER TABLE tr_idle ALTER COLUMN b TYPE bigint;
		ALTER TABLE tr_masked ADD COLUMN phone text; ALTER TABLE other ADD COLUMN c int`)
	log, rules := start()
	want := []string{
		"public.tr_idle: info added [c] dropped [a] retyped [b]",
		"public.tr_masked: info added [phone] dropped <nil> retyped <nil>",
	}
	if got := stoppedLines(log); !slices.Equal(got, want) {
		t.Errorf("second start logged %q,\nwant %q", got, want)
	}
	// The masked table's first change after the start is its first sight,
	// as before: no rename is guessed from the catalog's columns.
	masked := trRelation(ctx, t, db, "tr_masked", "id int4", "email text", "phone text")
	if _, err := rules.Apply(&event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1, Relation: masked,
		After: []any{int32(1), "a@x", "1"}}); err != nil {
		t.Errorf("first change of the masked table: %v", err)
	}
	if log, _ := start(); len(stoppedLines(log)) > 0 {
		t.Errorf("third start: %v, want no %q line (each change is logged once)", stoppedLines(log), StoppedChangeMessage)
	}
}

// TestLineageWithoutRulesLogged (gap left by the lineage's first version:
// without a rules file no lineage was kept, so a change of a table's
// columns while walrelay was stopped left no info line at all with the
// JSON format): with postgres.tables, the captured tables, the one changed
// and the idle one, are saved, and the next start logs the change of
// each; a table postgres.tables does not list is not; a later session of
// the same Run continues the lineage, and a change is logged once.
func TestLineageWithoutRulesLogged(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE nr_busy (id int PRIMARY KEY, a text);
		CREATE TABLE nr_idle (id int PRIMARY KEY, a text);
		CREATE TABLE nr_other (id int PRIMARY KEY, a text)`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	cfg := &config.Config{DataDir: dir}
	cfg.Postgres.Tables = []string{"public.nr_busy", "public.nr_idle"}
	start := func(rs *runState) (*session, *bytes.Buffer) {
		var buf bytes.Buffer
		s := &session{cfg: cfg, db: db, log: zerolog.New(&buf), rs: rs}
		if err := s.openCapturedLineage(ctx); err != nil {
			t.Fatal(err)
		}
		return s, &buf
	}
	s, buf := start(&runState{})
	busy := trRelation(ctx, t, db, "nr_busy", "id int4", "a text")
	for i := range 3 {
		ch := &event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: uint32(i + 1), Relation: busy,
			After: []any{int32(i), "x"}}
		if err := s.observeCaptured(ch); err != nil {
			t.Fatal(err)
		}
	}
	s.closeFilter() // the session ends
	if got := stoppedLines(buf.String()); len(got) > 0 {
		t.Fatalf("first start: %v, want no %q line", got, StoppedChangeMessage)
	}

	// Stopped: all three tables change.
	testenv.ExecDSN(t, dsn, `ALTER TABLE nr_busy ADD COLUMN b int; ALTER TABLE nr_idle DROP COLUMN a;
		ALTER TABLE nr_other ADD COLUMN b int`)
	rs := &runState{}
	s, buf = start(rs)
	want := []string{
		"public.nr_busy: info added [b] dropped <nil> retyped <nil>",
		"public.nr_idle: info added <nil> dropped [a] retyped <nil>",
	}
	if got := stoppedLines(buf.String()); !slices.Equal(got, want) {
		t.Errorf("start after the change logged %q,\nwant %q", got, want)
	}
	s.closeFilter()
	s, buf = start(rs) // the Run's next session: continues, logs nothing
	s.closeFilter()
	if got := stoppedLines(buf.String()); len(got) > 0 {
		t.Errorf("next session of the Run: %v, want no %q line", got, StoppedChangeMessage)
	}
	_, buf = start(&runState{})
	if got := stoppedLines(buf.String()); len(got) > 0 {
		t.Errorf("next start: %v, want no %q line (each change is logged once)", got, StoppedChangeMessage)
	}
}

// trRelation is table's relation as pgoutput would send it, cols "name
// type" (int4 or text), the first the key.
func trRelation(ctx context.Context, t *testing.T, db *pgx.Conn, table string, cols ...string) *event.Relation {
	t.Helper()
	rel := &event.Relation{Schema: "public", Table: table, Version: 1}
	if err := db.QueryRow(ctx, "SELECT $1::regclass::oid", table).Scan(&rel.OID); err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		name, typ, _ := strings.Cut(c, " ")
		rel.Columns = append(rel.Columns, event.Column{Name: name, TypeName: typ, TypeOID: map[string]uint32{"int4": 23, "text": 25}[typ]})
	}
	rel.Columns[0].Key = true
	return rel
}
