package replication

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckPublicationOwner: for a missing publication, a role that may
// create publications but does not own every captured table is a check
// problem (with the CREATE PUBLICATION to run as the owner), because
// PostgreSQL refuses the CREATE PUBLICATION walrelay would run on start
// ("must be owner of table"). check agrees with PostgreSQL case by case:
// a partitioned table needs only its own owner, an inheritance parent its
// children's too. The roles exist only inside a transaction rolled back at
// the end.
func TestCheckPublicationOwner(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, `CREATE TABLE par (id int PRIMARY KEY); CREATE TABLE chi () INHERITS (par)`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := time.Now().UnixNano()
	me, other := fmt.Sprintf("chk_own_%d", n), fmt.Sprintf("chk_other_%d", n)
	setup := []string{"BEGIN", "CREATE ROLE " + me, "CREATE ROLE " + other,
		"GRANT CREATE ON DATABASE " + db.Config().Database + " TO " + me,
		"ALTER TABLE pt OWNER TO " + me, "ALTER TABLE par OWNER TO " + me, "ALTER TABLE plain OWNER TO " + other,
		"SET LOCAL ROLE " + me}
	for _, sql := range setup {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	defer func() { _, _ = db.Exec(context.Background(), "ROLLBACK") }()
	cases := []struct {
		tables []string
		want   string // "" for ok
	}{
		{[]string{"public.pt"}, ""},
		{[]string{"public.pt", "public.plain"}, fmt.Sprintf(`FAIL: publication nope is missing and walrelay cannot create it on start: `+
			`role %s does not own public.plain (CREATE PUBLICATION ... FOR TABLE needs the owner of every table, or a superuser) `+
			`[as the tables' owner: CREATE PUBLICATION "nope" FOR TABLE "public"."pt", "public"."plain" WITH (publish_via_partition_root = true); `+
			`(or let this role act as their owner: GRANT "%s" TO "%s";)]`, me, other, me)},
		{[]string{"public.par"}, fmt.Sprintf("FAIL: publication nope is missing and walrelay cannot create it on start: role %s does not own public.chi ", me)},
	}
	for _, c := range cases {
		fs, err := checkPublication(ctx, db, CheckOptions{Publication: "nope", Tables: c.tables})
		if err != nil {
			t.Fatalf("%v: %v", c.tables, err)
		}
		got := describe(fs)
		if c.want == "" && (len(fs) != 1 || !fs[0].OK || !strings.Contains(got, "will be created on start")) ||
			c.want != "" && (len(fs) != 1 || !strings.HasPrefix(got, c.want)) {
			t.Errorf("%v: findings\n%s\nwant one starting %q", c.tables, got, c.want)
		}
		// PostgreSQL agrees: the statement walrelay runs on start succeeds
		// exactly when check passes.
		if _, err := db.Exec(ctx, "SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		_, createErr := db.Exec(ctx, "CREATE PUBLICATION nope FOR TABLE "+quoteTables(c.tables)+ViaRootOption)
		if _, err := db.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		if (createErr == nil) != (c.want == "") {
			t.Errorf("%v: CREATE PUBLICATION as the role: %v; check said\n%s", c.tables, createErr, got)
		}
	}
}
