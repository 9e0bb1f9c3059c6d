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
		nil,
		nil,
		{`outbox column "event_type" does not exist in public.outbox`},
		nil,
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
	// A rule naming no existing table is a warning: run takes it (auditc9 #1).
	if w := ms[3].Warnings; len(w) != 1 || !strings.Contains(w[0].Msg, "names no existing table") {
		t.Errorf("rule 3 warnings %v, want the one that it names no existing table", w)
	}
	// The where expression's missing column is refused, at the expression,
	// and so is the excluded primary key column, at its entry in the file
	// (auditc9 #1: run published the records with an empty key).
	for i, m := range ms {
		var want []string
		if i == 0 {
			want = []string{`rules.yaml:5:38: rules[0]: excluded column "id" is part of public.orders's primary key; the record key would lose it`,
				`rules.yaml:6:12: rules[0].where: column "missing_col" does not exist in public.orders (columns: id, amount, notes, card)`}
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
	msgs := func(es []*Error) (string, int) {
		var got []string
		for _, p := range es {
			got = append(got, p.Msg)
		}
		return strings.Join(got, "\n"), len(got)
	}
	// Refused: run would publish wrong keys (auditc9 #1).
	refused, n := msgs(ms[0].Refused)
	for _, want := range []string{
		`key column "tenant" of public.k_default is not in its replica identity (primary key [id])`,
		`key column "nope" does not exist in public.k_default`,
		`key column "nope" does not exist in public.k_full`,
		`key column "nope" does not exist in public.k_none`,
	} {
		if !strings.Contains(refused, want) {
			t.Errorf("refused lacks %q:\n%s", want, refused)
		}
	}
	if n != 4 || len(ms[0].Problems) != 0 {
		t.Errorf("%d refused, want 4 (none for tenant of the FULL table), and problems %v, want none:\n%s", n, ms[0].Problems, refused)
	}
	// The keyless table has no replica identity: PostgreSQL refuses its
	// updates and deletes, so keys outside it are warnings.
	warned, n := msgs(ms[0].Warnings)
	// auditc7: "(primary key [])" read as if it had one
	if want := `key column "tenant" of public.k_none is not in its replica identity (none: the table has no primary key)`; n != 2 || !strings.Contains(warned, want) {
		t.Errorf("warnings:\n%s\nwant 2 (tenant, id of the keyless one), with %q", warned, want)
	}
}
