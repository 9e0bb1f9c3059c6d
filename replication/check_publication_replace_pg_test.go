package replication

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckPublicationReplaceAndViaRoot: the other statements run issues
// on an existing managed publication that need its owner are check
// problems too, like ALTER PUBLICATION ... ADD TABLE (TestCheckPublicationAdd):
// under rules, the DROP and CREATE that replace a FOR ALL TABLES
// publication, and ALTER PUBLICATION ... SET (publish_via_partition_root =
// true) for a publication of a partitioned table (the audits saw check pass
// and run fail on both). check agrees with PostgreSQL case by case: what
// run would issue succeeds exactly when check passes.
func TestCheckPublicationReplaceAndViaRoot(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, `CREATE PUBLICATION allt FOR ALL TABLES; CREATE PUBLICATION theirs FOR TABLE pt;
		CREATE PUBLICATION mine FOR TABLE plain`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := time.Now().UnixNano()
	me, other := fmt.Sprintf("chk_rep_%d", n), fmt.Sprintf("chk_repo_%d", n)
	setup := []string{"BEGIN", "CREATE ROLE " + me, "CREATE ROLE " + other,
		"GRANT CREATE ON DATABASE " + db.Config().Database + " TO " + me,
		"ALTER PUBLICATION theirs OWNER TO " + other, "ALTER PUBLICATION mine OWNER TO " + me,
		"ALTER TABLE plain OWNER TO " + me, "ALTER TABLE pt OWNER TO " + me,
		"SET LOCAL ROLE " + me}
	runSetup(t, ctx, db, setup)
	viaRoot := "ALTER PUBLICATION %s SET (publish_via_partition_root = true)"
	cases := []struct {
		pub    string
		tables []string
		rules  bool
		want   string // "" for ok
		run    string // what run issues on start
	}{
		{"allt", []string{"public.plain"}, true, fmt.Sprintf(`FAIL: publication allt is FOR ALL TABLES, and walrelay, which manages it `+
			`under the rules, cannot replace it on start with one that lists the captured tables: role %s does not own publication allt `, me),
			"DROP PUBLICATION allt; CREATE PUBLICATION allt FOR TABLE plain" + ViaRootOption},
		// Without rules, run keeps a FOR ALL TABLES publication, but sets
		// publish_via_partition_root on it: the database has pt.
		{"allt", []string{"public.plain"}, false, "FAIL: publication allt lacks publish_via_partition_root (it publishes a partitioned table) " +
			"and walrelay cannot set it on start: role " + me + " does not own publication allt",
			fmt.Sprintf(viaRoot, "allt")},
		{"theirs", []string{"public.pt"}, true, fmt.Sprintf(`FAIL: publication theirs lacks publish_via_partition_root `+
			`(it publishes a partitioned table) and walrelay cannot set it on start: role %s does not own publication theirs (owner %s) `+
			`(ALTER PUBLICATION ... SET needs the owner of the publication, or a superuser) `+
			`[as the owner: ALTER PUBLICATION "theirs" SET (publish_via_partition_root = true); (or let this role act as the owner: GRANT "%s" TO "%s";)]`,
			me, other, other, me), fmt.Sprintf(viaRoot, "theirs")},
		{"mine", []string{"public.plain", "public.pt"}, true, "", fmt.Sprintf(viaRoot, "mine") + "; ALTER PUBLICATION mine ADD TABLE pt"},
	}
	for _, c := range cases {
		fs, err := checkPublication(ctx, db, CheckOptions{Publication: c.pub, Tables: c.tables, Managed: true, Rules: c.rules})
		if err != nil {
			t.Fatalf("%s %v: %v", c.pub, c.tables, err)
		}
		got := describe(fs)
		if c.want == "" && strings.Contains(got, "FAIL") || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s %v rules=%v: findings\n%s\nwant one starting %q", c.pub, c.tables, c.rules, got, c.want)
		}
		if _, err := db.Exec(ctx, "SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		_, runErr := db.Exec(ctx, c.run)
		if _, err := db.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		if (runErr == nil) != (c.want == "") {
			t.Errorf("%s %v: %s as the role: %v; check said\n%s", c.pub, c.tables, c.run, runErr, got)
		}
	}
}

// runSetup runs setup, which begins a transaction (and usually ends with
// SET LOCAL ROLE), on db, failing t at the first statement that fails; the
// transaction is rolled back when the test ends.
func runSetup(t *testing.T, ctx context.Context, db *pgx.Conn, setup []string) {
	t.Helper()
	for _, sql := range setup {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() { _, _ = db.Exec(context.Background(), "ROLLBACK") })
}
