package filter

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// partitionedDDL is a partitioned root with a plain and a sub-partitioned
// partition, and an ordinary table.
const partitionedDDL = `
CREATE TABLE public.pt (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE public.pt_a PARTITION OF public.pt FOR VALUES FROM (0) TO (10);
CREATE TABLE public.pt_b PARTITION OF public.pt FOR VALUES FROM (10) TO (20) PARTITION BY RANGE (k);
CREATE TABLE public.pt_b1 PARTITION OF public.pt_b FOR VALUES FROM (10) TO (20);
CREATE TABLE public.plain (id int PRIMARY KEY);
`

// TestTablesPartitionedPG: on PostgreSQL 13+ TablesWithPartitioned lists
// partitioned tables (relkind 'p', Partitioned) with their columns and key,
// next to the partitions, so a rule naming the root matches it in Describe
// (and its column checks run) and a rule naming a partition still matches
// that partition. Tables leaves them out (the publication code's candidates).
func TestTablesPartitionedPG(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, partitionedDDL)
	conn := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 130000 {
		t.Fatalf("server version %d: this test needs PostgreSQL 13 or later", version)
	}
	names := func(tables []Table) string {
		var out []string
		for _, tb := range tables {
			name := tb.QualifiedName()
			if tb.Partitioned {
				name += "(p)"
			}
			out = append(out, name)
		}
		return strings.Join(out, ",")
	}
	plain, err := Tables(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(plain), "public.plain,public.pt_a,public.pt_b1"; got != want {
		t.Errorf("Tables: %s, want %s", got, want)
	}
	tables, err := TablesWithPartitioned(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(tables), "public.plain,public.pt(p),public.pt_a,public.pt_b(p),public.pt_b1"; got != want {
		t.Fatalf("TablesWithPartitioned: %s, want %s", got, want)
	}
	root := tables[slices.IndexFunc(tables, func(tb Table) bool { return tb.Name == "pt" })]
	if !slices.Equal(root.Columns, []string{"id", "k", "v"}) || !slices.Equal(root.Key, []string{"id", "k"}) ||
		!slices.Equal(root.Identity, []string{"id", "k"}) || root.IdentityKind != "d" {
		t.Errorf("public.pt: %+v, want columns [id k v], key and identity [id k], kind d", root)
	}

	rs := mustParse(t, "default: drop\nrules:\n  - tables: [public.pt]\n    columns: {exclude: [nope]}\n  - tables: [public.pt_a]\n", "")
	ms, err := Describe(ctx, conn, rs)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ms[0].Tables, ","); got != "public.pt" {
		t.Errorf("rule naming the root matches %q, want public.pt", got)
	}
	if len(ms[0].Problems) != 0 || len(ms[0].Warnings) != 1 || !strings.Contains(ms[0].Warnings[0].Msg, `excluded column "nope" does not exist in public.pt`) {
		t.Errorf("rule naming the root: problems %v, warnings %v, want only the missing excluded column's warning", ms[0].Problems, ms[0].Warnings)
	}
	if got := strings.Join(ms[1].Tables, ","); got != "public.pt_a" || len(ms[1].Problems) != 0 {
		t.Errorf("rule naming a partition matches %q with problems %v, want public.pt_a and none", got, ms[1].Problems)
	}
	if got := strings.Join(rs.CapturedTables(tables), ","); got != "public.pt,public.pt_a" {
		t.Errorf("captured %s, want public.pt,public.pt_a", got)
	}
}
