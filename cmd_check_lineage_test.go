package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckLineage: walrelay check reads data_dir/column-lineage.json, so
// rules that mask a column's former name there (as the rename halt asks)
// pass as they do in walrelay run; without the file the name is refused,
// and a file that does not read is a finding. The saved columns are
// reconciled with the catalog, as in run: a column renamed while walrelay
// was stopped is known by its former name, so rules that mask only that
// name are refused, with the fix. Nothing is written.
func TestCheckLineage(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE public.m1 (id int PRIMARY KEY, email_address text)")
	db := testenv.Connect(t, dsn)
	ctx := context.Background()
	var oid uint32
	if err := db.QueryRow(ctx, "SELECT 'public.m1'::regclass::oid").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	const rules = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email, email_address]}\n"
	const oldOnly = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email]}\n"
	state := fmt.Sprintf(`{"version":1,"tables":[{"oid":%d,"table":"public.m1",
		"columns":[{"name":"id","type_oid":23,"type":"int4"},{"name":"email_address","type_oid":25,"type":"text"}],
		"formerly":{"email_address":["email"]}}]}`, oid)
	before := fmt.Sprintf(`{"version":1,"tables":[{"oid":%d,"table":"public.m1",
		"columns":[{"name":"id","type_oid":23,"type":"int4"},{"name":"email","type_oid":25,"type":"text"}]}]}`, oid)
	m1 := []filter.Table{{Schema: "public", Name: "m1", Columns: []string{"id", "email_address"}, Key: []string{"id"}, Identity: []string{"id"}}}
	for _, c := range []struct {
		name, file, rules string // file: column-lineage.json's content, "" = none
		finding, refused  bool
		want              string // in the refusal
	}{
		{"lineage knows email", state, rules, false, false, ""},
		{"no lineage file", "", rules, false, true, ""},
		{"unreadable file", "{", rules, true, true, ""},
		{"renamed while stopped, both names", before, rules, false, false, ""},
		{"renamed while stopped, old name only", before, oldOnly, false, true,
			`it is a former name of public.m1's column "email_address"`},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		if c.file != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "column-lineage.json"), []byte(c.file), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rs, err := filter.Parse("rules.yaml", []byte(c.rules), "s")
		if err != nil {
			t.Fatal(err)
		}
		out := checkLineage(ctx, db, &config.Config{DataDir: dir}, rs)
		if got := len(out) > 0; got != c.finding || got && !strings.Contains(out[0].What, "column-lineage.json") {
			t.Errorf("%s: findings %+v, want one about the file: %v", c.name, out, c.finding)
		}
		var problems []string
		for _, m := range rs.DescribeTables(m1) {
			for _, p := range append(m.Refused, m.Problems...) {
				problems = append(problems, p.Error())
			}
		}
		if (len(problems) > 0) != c.refused || c.want != "" && !strings.Contains(strings.Join(problems, "\n"), c.want) {
			t.Errorf("%s: problems with the rules %q, want refused %v (%q)", c.name, problems, c.refused, c.want)
		}
		if c.file == "" {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s: data_dir created (%v)", c.name, err)
			}
		}
	}
}
