package filter

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input makes the parser panic; every rejected input gives
// positioned errors; every accepted one can decide changes, and be checked
// against tables, without panicking (CheckWhere's errors are positioned too).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/broken/*.yaml")
	files = append(files, "testdata/example.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(outboxRules))
	f.Add([]byte("default: capture\nrules: [{tables: ['*.*'], where: 'row.a > 1 || op == \"delete\"', columns: {mask: [a]}}]"))
	f.Add([]byte("rules:\n  - tables: ['public.*']\n    where: |\n      row.id > 1 &&\n        row.v > 5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("f.yaml", data, "salt")
		if err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			for _, e := range es {
				if e.File != "f.yaml" || e.Pos.Line < 1 || e.Msg == "" || e.Fix == "" {
					t.Fatalf("error without position, message or fix: %#v", e)
				}
			}
			return
		}
		row := []any{int64(1), dec(5, 0), "new", nil, "card"}
		for _, ch := range [](func() Decision){
			func() Decision { d, _ := rs.Apply(ins(orders, row...)); return d },
			func() Decision { d, _ := rs.Apply(del(orders, row...)); return d },
			func() Decision { d, _ := rs.Apply(trunc(orders)); return d },
			func() Decision { d, _ := rs.Apply(msg("events", true, "x")); return d },
		} {
			if d := ch(); d.Action == Keep && d.Change == nil {
				t.Fatalf("keep without a change")
			}
		}
		_ = rs.Captures("public.orders")
		tables := []Table{fitTable, {Schema: "public", Name: "orders", Columns: []string{"id", "amount", "status"}}}
		if err := rs.CheckWhere(tables); err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("where check error %T %v is not Errors", err, err)
			}
			for _, e := range es {
				if e.File != "f.yaml" || e.Pos.Line < 1 || e.Msg == "" || e.Fix == "" {
					t.Fatalf("where check error without position, message or fix: %#v", e)
				}
			}
		}
		_ = rs.DescribeTables(tables)
	})
}
