package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestLineageMissingRefusesRename (audit auditupg finding 1): a masked
// column renamed while walrelay was stopped, in a table the saved column
// lineage has no entry of (a data_dir of a walrelay that kept none, or a
// lineage lost: simulated by deleting column-lineage.json and keeping the
// checkpoint), was published in clear under its new name after the start,
// with only a warning, when another table of the rule still had the old
// name. Now a start from the checkpoint refuses the rules file, saying it
// may be a rename or a drop and the fix, and saves no lineage meanwhile,
// so a second start refuses again; the rule naming the new name too is
// taken. A first start (no checkpoint) only warns, as before, and with the
// lineage kept the start is not refused (the rename halts at the first
// change, as README says).
func TestLineageMissingRefusesRename(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE mg_t1 (id int PRIMARY KEY, v text, secret text, notes text);
		CREATE TABLE mg_t2 (b int, a int, v text, secret text, notes text, PRIMARY KEY (a, b))`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	writeRules := func(mask string) {
		src := "default: drop\nrules:\n  - tables: [public.mg_t1, public.mg_t2]\n    columns: {exclude: [notes], mask: [" + mask + "]}\n"
		if err := os.WriteFile(rulesFile, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := func(dataDir string, found bool) (*session, string, error) {
		var buf bytes.Buffer
		s := &session{cfg: &config.Config{DataDir: dataDir, Rules: rulesFile, MaskSalt: "salt"}, db: db,
			log: zerolog.New(&buf), rs: &runState{}, found: found}
		_, err := s.openFilter(ctx)
		return s, buf.String(), err
	}
	writeRules("secret")

	// The first process sees a change of each table, and stops.
	s, _, err := start(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		table string
		cols  []string
	}{{"mg_t1", []string{"id int4", "v text", "secret text", "notes text"}},
		{"mg_t2", []string{"b int4", "a int4", "v text", "secret text", "notes text"}}} {
		rel := trRelation(ctx, t, db, tc.table, tc.cols...)
		row := []any{int32(1), "v", "s", "n"}
		if tc.table == "mg_t2" {
			row = []any{int32(1), int32(2), "v", "s", "n"}
		}
		if _, err := s.filter.apply(&event.Change{Op: event.OpCreate, Tx: &event.Tx{CommitLSN: 10}, Ordinal: 1,
			Relation: rel, After: row}, zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
	}
	s.closeFilter()

	// Stopped: the masked column of mg_t1 is renamed.
	testenv.ExecDSN(t, dsn, `ALTER TABLE mg_t1 RENAME COLUMN secret TO contact`)
	if _, _, err := start(dir, true); err != nil { // the lineage kept: taken, the first change halts
		t.Fatalf("start with the lineage: %v", err)
	}
	lost := t.TempDir() // the same data_dir, without its column lineage
	_, log, err := start(lost, false)
	if err != nil || !strings.Contains(log, `masked column \"secret\" does not exist in public.mg_t1`) {
		t.Fatalf("first start without a checkpoint: %v, log %s; want the file taken with the warning, as before", err, log)
	}
	lost = t.TempDir()
	for i := range 2 { // nothing saved by the refused start: refused again
		_, _, err = start(lost, true)
		if err == nil || !strings.Contains(err.Error(), `"secret"`) || !strings.Contains(err.Error(), "public.mg_t1") ||
			!strings.Contains(err.Error(), "renamed") || !strings.Contains(err.Error(), "dropped") ||
			!strings.Contains(err.Error(), "add its new name") {
			t.Fatalf("start %d from the checkpoint without a lineage: %v; want the rules file refused: renamed or dropped, and the fix", i+1, err)
		}
		if _, serr := os.Stat(filepath.Join(lost, lineageFile)); serr == nil {
			t.Fatalf("start %d refused but saved %s: the next start would take the renamed column as seen", i+1, lineageFile)
		}
	}
	writeRules("secret, contact") // the fix
	if _, _, err := start(lost, true); err != nil {
		t.Fatalf("start with the new name added: %v", err)
	}
}

// guardRig starts the rules of walrelay's starts over one database, data
// directory and rules file, as a start does (openFilter, then closeFilter
// when the file was taken), for the resume guard's tests.
type guardRig struct {
	t     *testing.T
	ctx   context.Context
	dsn   string
	db    *pgx.Conn
	dir   string
	rules string
}

// newGuardRig creates a database with ddl run in it.
func newGuardRig(t *testing.T, ddl string) *guardRig {
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, ddl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return &guardRig{t: t, ctx: ctx, dsn: dsn, db: testenv.Connect(t, dsn), dir: t.TempDir(),
		rules: filepath.Join(t.TempDir(), "rules.yaml")}
}

// write makes src the rules file.
func (g *guardRig) write(src string) {
	if err := os.WriteFile(g.rules, []byte(src), 0o600); err != nil {
		g.t.Fatal(err)
	}
}

// start opens the rules as a start of walrelay does; found: it resumes
// from a checkpoint.
func (g *guardRig) start(found bool) error {
	s := &session{cfg: &config.Config{DataDir: g.dir, Rules: g.rules, MaskSalt: "salt"}, db: g.db,
		log: zerolog.Nop(), rs: &runState{}, found: found}
	_, err := s.openFilter(g.ctx)
	if err == nil {
		s.closeFilter()
	}
	return err
}

// TestLineageIdleMaskedRenameRefused: a masked table no change of which
// walrelay saw is saved with its shape only (trackLineage); a rename of its
// masked column while walrelay was stopped would otherwise be taken as the
// table's first columns and published in clear. A start from the
// checkpoint refuses the rules file while the shape shows the column gone
// and others gained; a column only dropped is taken (nothing to publish
// under another name).
func TestLineageIdleMaskedRenameRefused(t *testing.T) {
	t.Parallel()
	g := newGuardRig(t, `CREATE TABLE ig_t1 (id int PRIMARY KEY, secret text);
		CREATE TABLE ig_t2 (id int PRIMARY KEY, secret text); CREATE TABLE ig_t3 (id int PRIMARY KEY, secret text)`)
	g.write("default: drop\nrules:\n  - tables: [\"public.ig_*\"]\n    columns: {mask: [secret]}\n")
	if err := g.start(false); err != nil { // idle tables: saved with their shape
		t.Fatal(err)
	}
	testenv.ExecDSN(t, g.dsn, `ALTER TABLE ig_t1 RENAME COLUMN secret TO contact; ALTER TABLE ig_t3 DROP COLUMN secret`)
	for i := range 2 {
		err := g.start(true)
		if err == nil || !strings.Contains(err.Error(), `"secret"`) || !strings.Contains(err.Error(), "public.ig_t1") ||
			!strings.Contains(err.Error(), "renamed") || strings.Contains(err.Error(), "public.ig_t2 ") ||
			strings.Contains(err.Error(), "public.ig_t3 ") {
			t.Fatalf("start %d: %v; want the rules file refused for public.ig_t1 only (renamed or dropped), not the dropped column of public.ig_t3", i+1, err)
		}
	}
	g.write("default: drop\nrules:\n  - tables: [\"public.ig_*\"]\n    columns: {mask: [secret, contact]}\n")
	if err := g.start(true); err != nil {
		t.Fatalf("start with the new name added: %v", err)
	}
}

// TestLineageIdleMaskedMovedRefused (auditc8 D1, D2): an idle masked
// table known by its shape only, whose masked column was swapped with
// another (D1) or renamed and re-added under its name (D2) while walrelay
// was stopped, kept its name in the catalog, so the start took it and
// published the old values in clear under the other name. A start from
// the checkpoint refuses the rules file until every column that may now
// hold the values is masked too.
func TestLineageIdleMaskedMovedRefused(t *testing.T) {
	t.Parallel()
	g := newGuardRig(t, `CREATE TABLE mv_a (id int PRIMARY KEY, v text, secret text);
		CREATE TABLE mv_b (id int PRIMARY KEY, v text, secret text)`)
	rules := func(mask string) string {
		return "default: drop\nrules:\n  - tables: [public.mv_a, public.mv_b]\n    columns: {mask: [" + mask + "]}\n"
	}
	g.write(rules("secret"))
	if err := g.start(false); err != nil { // idle tables: saved with their shape
		t.Fatal(err)
	}
	testenv.ExecDSN(t, g.dsn, `ALTER TABLE mv_a RENAME COLUMN secret TO tmp; ALTER TABLE mv_a RENAME COLUMN v TO secret;
		ALTER TABLE mv_a RENAME COLUMN tmp TO v;
		ALTER TABLE mv_b RENAME COLUMN secret TO contact; ALTER TABLE mv_b ADD COLUMN secret text`)
	err := g.start(true)
	if err == nil || !strings.Contains(err.Error(), "public.mv_a") || !strings.Contains(err.Error(), "public.mv_b") ||
		!strings.Contains(err.Error(), "[v]") || !strings.Contains(err.Error(), "[contact]") {
		t.Fatalf("start after the swap (mv_a) and the rename and re-add (mv_b): %v; want the file refused for both, naming v and contact", err)
	}
	g.write(rules("secret, v, contact"))
	if err := g.start(true); err != nil {
		t.Fatalf("start with every column that may hold the values masked: %v", err)
	}
}

// TestLineageNewTableInExactRuleTaken (auditc8 D4): a table added to an
// exact mask rule while walrelay was stopped, which walrelay never
// captured, is not in the saved lineage; with a lineage that had every
// captured table (Complete) it was simply not captured before, so the
// start only warns about its missing column, as before f54ed78. With the
// lineage lost the guard still refuses.
func TestLineageNewTableInExactRuleTaken(t *testing.T) {
	t.Parallel()
	g := newGuardRig(t, `CREATE TABLE nt_1 (id int PRIMARY KEY, secret text); CREATE TABLE nt_2 (id int PRIMARY KEY, card text)`)
	rules := func(tables string) string {
		return "default: drop\nrules:\n  - tables: [" + tables + "]\n    columns: {mask: [secret]}\n"
	}
	g.write(rules("public.nt_1"))
	if err := g.start(false); err != nil {
		t.Fatal(err)
	}
	g.write(rules("public.nt_1, public.nt_2"))
	if err := g.start(true); err != nil {
		t.Fatalf("start with a never-captured table added to the rule: %v; want it taken (warned)", err)
	}
	if err := os.Remove(filepath.Join(g.dir, lineageFile)); err != nil {
		t.Fatal(err)
	}
	if err := g.start(true); err == nil || !strings.Contains(err.Error(), "public.nt_2") {
		t.Fatalf("start with the lineage lost: %v; want the guard's refusal for public.nt_2", err)
	}
}
