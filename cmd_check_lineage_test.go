package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
)

// TestCheckLineage: walrelay check reads data_dir/column-lineage.json, so
// rules that mask a column's former name there (as the rename halt asks)
// pass as they do in walrelay run; without the file the name is refused,
// and a file that does not read is a finding. Nothing is written.
func TestCheckLineage(t *testing.T) {
	t.Parallel()
	const rules = "rules:\n  - tables: [public.m1]\n    columns: {mask: [email, email_address]}\n"
	const state = `{"version":1,"tables":[{"oid":16400,"table":"public.m1",
		"columns":[{"name":"id","type_oid":23,"type":"int4"},{"name":"email_address","type_oid":25,"type":"text"}],
		"formerly":{"email_address":["email"]}}]}`
	m1 := []filter.Table{{Schema: "public", Name: "m1", Columns: []string{"id", "email_address"}, Key: []string{"id"}, Identity: []string{"id"}}}
	for _, c := range []struct {
		name, file       string // file: column-lineage.json's content, "" = none
		finding, refused bool
	}{
		{"lineage knows email", state, false, false},
		{"no lineage file", "", false, true},
		{"unreadable file", "{", true, true},
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
		rs, err := filter.Parse("rules.yaml", []byte(rules), "s")
		if err != nil {
			t.Fatal(err)
		}
		out := checkLineage(&config.Config{DataDir: dir}, rs)
		if got := len(out) > 0; got != c.finding || got && !strings.Contains(out[0].What, "column-lineage.json") {
			t.Errorf("%s: findings %+v, want one about the file: %v", c.name, out, c.finding)
		}
		refused := 0
		for _, m := range rs.DescribeTables(m1) {
			refused += len(m.Refused) + len(m.Problems)
		}
		if (refused > 0) != c.refused {
			t.Errorf("%s: %d problems with the rules, want refused %v", c.name, refused, c.refused)
		}
		if c.file == "" {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s: data_dir created (%v)", c.name, err)
			}
		}
	}
}
