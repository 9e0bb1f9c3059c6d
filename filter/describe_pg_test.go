package filter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

const describeDDL = `
CREATE SCHEMA sales;
CREATE TABLE public.orders (id bigint PRIMARY KEY, amount numeric(12,2), notes text, card text);
CREATE TABLE public.customers (id bigint PRIMARY KEY, email text);
CREATE TABLE public.outbox (id uuid PRIMARY KEY, aggregate_type text, aggregate_id text, payload jsonb);
CREATE TABLE sales.eu (id int PRIMARY KEY, total numeric);
CREATE TABLE sales.us (id int PRIMARY KEY, total numeric);
CREATE TABLE public.audit (id bigint);
CREATE UNLOGGED TABLE public.scratch (id int);
CREATE VIEW public.orders_view AS SELECT * FROM public.orders;
`

const describeRules = `
default: capture
rules:
  - tables: [public.orders]
    columns: {exclude: [notes, nope, id], mask: [card]}
    where: "row.amount > 10 && row.missing_col != nil"
  - tables: ["sales.*"]
    topic: sales
  - tables: [public.outbox]
    outbox: {id: id, key: aggregate_id, topic: "o.${aggregate_type}", payload: payload, type: event_type}
  - tables: [public.nothing_here]
  - tables: [public.audit]
    drop: true
`

// TestDescribePG checks Describe and CapturedTables against a real catalog.
func TestDescribePG(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, describeDDL)
	conn := testenv.Connect(t, dsn)
	rs := mustParse(t, describeRules, "salt")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := Describe(ctx, conn, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 {
		t.Fatalf("%d matches, want 5 rules and the default", len(ms))
	}
	wantTables := []string{"public.orders", "sales.eu,sales.us", "public.outbox", "", "public.audit", "public.customers"}
	for i, m := range ms {
		if got := strings.Join(m.Tables, ","); got != wantTables[i] {
			t.Errorf("match %d (rule %d): tables %q, want %q", i, m.Rule, got, wantTables[i])
		}
	}
	wantProblems := [][]string{
		{`excluded column "id" is part of public.orders's primary key`},
		nil,
		{`outbox column "event_type" does not exist in public.outbox`},
		{"names no existing table"},
		nil, nil,
	}
	for i, m := range ms {
		if len(m.Problems) != len(wantProblems[i]) {
			t.Errorf("match %d: problems %v, want %d", i, m.Problems, len(wantProblems[i]))
			continue
		}
		for j, p := range m.Problems {
			if !strings.Contains(p.Error(), wantProblems[i][j]) || !strings.HasPrefix(p.Error(), "rules.yaml:") {
				t.Errorf("match %d problem %d: %v, want %q", i, j, p, wantProblems[i][j])
			}
		}
	}
	// A missing excluded column is a warning (walrelay run takes the rule);
	// so is a where expression reading a column a delete's old row lacks.
	if w := ms[0].Warnings; len(w) != 2 || !strings.Contains(w[0].Msg, `excluded column "nope" does not exist in public.orders`) ||
		!strings.Contains(w[1].Msg, `rules[0].where reads row.amount, which the old row of a delete of public.orders does not carry (replica identity: primary key [id], not FULL)`) {
		t.Errorf("warnings %v, want the missing excluded column and one about row.amount on deletes", w)
	}
	// The excluded key column's problem points at its entry in the file.
	if p := ms[0].Problems[0]; p.Pos != (Pos{Line: 5, Column: 38}) {
		t.Errorf("problem position %s, want 5:38", p.Pos)
	}
	// The where expression's missing column is refused, at the expression.
	for i, m := range ms {
		var want []string
		if i == 0 {
			want = []string{`rules.yaml:6:12: rules[0].where: column "missing_col" does not exist in public.orders (columns: id, amount, notes, card)`}
		}
		var got []string
		for _, p := range m.Refused {
			got = append(got, p.Message())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("match %d: refused %q, want %q", i, got, want)
		}
	}
	tables, err := Tables(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rs.CapturedTables(tables), ",")
	if want := "public.customers,public.orders,public.outbox,sales.eu,sales.us"; got != want {
		t.Errorf("captured %s, want %s (no audit: dropped; no scratch: unlogged; no view)", got, want)
	}
}

// TestMaskMatchesPostgres: a masked text value equals what PostgreSQL
// computes with encode(sha256(convert_to(salt || value, 'UTF8')), 'hex'), so a
// consumer can look up a known value.
func TestMaskMatchesPostgres(t *testing.T) {
	t.Parallel()
	conn := testenv.Connect(t, testenv.PG(t).DSN())
	for _, v := range []string{"4111111111111111", "jane@example.com", "ünïcödé", ""} {
		var want string
		if err := conn.QueryRow(context.Background(),
			"SELECT encode(sha256(convert_to($1 || $2, 'UTF8')), 'hex')", "pepper", v).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := maskValue(v, []byte("pepper")); got != want {
			t.Errorf("mask(%q) = %v, PostgreSQL says %s", v, got, want)
		}
	}
}

// TestDescribeKeyPG: a key column must exist, and be in the table's
// replica identity (the primary key by default), or deletes would carry
// no value for it; REPLICA IDENTITY FULL covers every column.
func TestDescribeKeyPG(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.k_default (id int PRIMARY KEY, tenant int);
		CREATE TABLE public.k_full (id int PRIMARY KEY, tenant int);
		ALTER TABLE public.k_full REPLICA IDENTITY FULL;
		CREATE TABLE public.k_none (tenant int, id int);`)
	conn := testenv.Connect(t, dsn)
	rs := mustParse(t, "rules:\n  - tables: [public.k_default, public.k_full, public.k_none]\n    key: [tenant, id, nope]\n", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := Describe(ctx, conn, rs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ms[0].Problems {
		got = append(got, p.Msg)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`key column "tenant" of public.k_default is not in its replica identity (primary key [id])`,
		`key column "nope" does not exist in public.k_default`,
		`key column "nope" does not exist in public.k_full`,
		// auditc7: "(primary key [])" read as if it had one
		`key column "tenant" of public.k_none is not in its replica identity (none: the table has no primary key)`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if len(got) != 6 {
		t.Errorf("%d problems, want 6 (none for tenant of the FULL table; tenant, id, nope of the keyless one):\n%s", len(got), all)
	}
}
