package filter

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

const typesDDL = `
CREATE SCHEMA other;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TYPE other.date AS (a int);
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN smallpos AS posint CHECK (VALUE < 100);
CREATE DOMAIN tags AS text[];
CREATE TABLE public.typed (id int8 PRIMARY KEY, v text, n smallpos, m mood, d other.date, day date,
  ts timestamptz, a int4[], t tags, p point, amount numeric(10,2), dropped int, j jsonb);
ALTER TABLE public.typed DROP COLUMN dropped;
CREATE TABLE public.parted (id int, k int) PARTITION BY RANGE (k);
`

// TestTablesWithTypesPG: column types come as the decoder resolves them:
// domains (over domains) as their base type, enums and arrays by kind, a
// type outside pg_catalog as other even when its name is a built-in's;
// partitioned tables and dropped columns as TablesWithPartitioned has them.
// CheckWhere then type-checks against them.
func TestTablesWithTypesPG(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, typesDDL)
	conn := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tables, err := TablesWithTypes(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tb := range tables {
		var parts []string
		for i, c := range tb.Columns {
			parts = append(parts, fmt.Sprintf("%s:%s/%d", c, tb.Types[i].TypeName, tb.Types[i].Kind))
		}
		got[tb.QualifiedName()] = strings.Join(parts, " ")
	}
	want := map[string]string{
		"public.typed": "id:int8/0 v:text/0 n:int4/0 m:mood/1 d:date/3 day:date/0 ts:timestamptz/0 a:_int4/2 " +
			"t:_text/2 p:point/0 amount:numeric/0 j:jsonb/0",
		"public.parted": "id:int4/0 k:int4/0",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %s\nwant %s", name, got[name], w)
		}
	}
	rs := mustParse(t, "rules:\n  - tables: [public.typed]\n    where: \"row.n > 5 && row.m == 'happy' && row.d == '(1)' && "+
		"row.day > date('2020-01-01') && 3 in row.a && row.p.x > 0 && row.amount > 1\"\n", "")
	if err := rs.CheckWhere(tables); err != nil {
		t.Errorf("a where that fits public.typed: %v", err)
	}
	rs = mustParse(t, "rules:\n  - tables: [public.typed]\n    where: \"row.n > 'x'\"\n", "")
	if err := rs.CheckWhere(tables); err == nil || !strings.Contains(err.Error(), "(n is int4: int in expressions)") {
		t.Errorf("a domain over int4 compared with text: %v", err)
	}
}
