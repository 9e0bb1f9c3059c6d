package replication

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckPublicationDrop: under rules, walrelay drops on start the tables
// an existing managed publication lists that the rules do not capture
// (ALTER PUBLICATION ... DROP TABLE, after any ADD TABLE, in one
// transaction). PostgreSQL 15 runs the DROP only for the owner of the
// publication, whoever owns the tables, so a rules edit that stops
// capturing a table is a check problem, with the statement to run as the
// owner, when the role does not own the publication (the audits saw check
// pass and run fail). check agrees with PostgreSQL case by case: what run
// would issue succeeds exactly when check passes.
func TestCheckPublicationDrop(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, `CREATE TABLE mytab (id int PRIMARY KEY); CREATE TABLE othertab (id int PRIMARY KEY);
		CREATE PUBLICATION theirs FOR TABLE plain, othertab; CREATE PUBLICATION mine FOR TABLE plain, othertab`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := time.Now().UnixNano()
	me, other := fmt.Sprintf("chk_drop_%d", n), fmt.Sprintf("chk_dropo_%d", n)
	setup := []string{"BEGIN", "CREATE ROLE " + me, "CREATE ROLE " + other,
		"ALTER PUBLICATION theirs OWNER TO " + other, "ALTER PUBLICATION mine OWNER TO " + me,
		"ALTER TABLE mytab OWNER TO " + me, "ALTER TABLE othertab OWNER TO " + other, "ALTER TABLE plain OWNER TO " + other,
		"SET LOCAL ROLE " + me}
	runSetup(t, ctx, db, setup)
	cases := []struct {
		pub    string
		tables []string // the capture set
		rules  bool
		want   string // "" for ok
	}{
		{"theirs", []string{"public.plain"}, true, fmt.Sprintf(`FAIL: publication theirs holds tables the rules do not capture `+
			`(public.othertab) and walrelay cannot drop them on start: role %s does not own publication theirs (owner %s) `+
			`(ALTER PUBLICATION ... DROP TABLE needs the owner of the publication, or a superuser) `+
			`[as the owner: ALTER PUBLICATION "theirs" DROP TABLE "public"."othertab"; (or let this role act as the owner: `+
			`GRANT "%s" TO "%s";) (or set publication.manage: false to use it as it is)]`, me, other, other, me)},
		// Rules that capture no table: run empties the publication.
		{"theirs", nil, true, `FAIL: publication theirs holds tables the rules do not capture (public.othertab, public.plain) ` +
			`and walrelay cannot drop them on start`},
		// The ADD and the DROP are one finding, the statements in run's order.
		{"theirs", []string{"public.mytab"}, true, fmt.Sprintf(`FAIL: publication theirs lacks captured tables public.mytab `+
			`and holds tables the rules do not capture (public.othertab, public.plain) and walrelay cannot add them and drop those `+
			`on start: role %s does not own publication theirs (owner %s) (ALTER PUBLICATION ... ADD TABLE needs the owner of the `+
			`publication and of every table it adds; ALTER PUBLICATION ... DROP TABLE needs the owner of the publication, or a `+
			`superuser) [as the owner: ALTER PUBLICATION "theirs" ADD TABLE "public"."mytab"; ALTER PUBLICATION "theirs" DROP TABLE `+
			`"public"."othertab", "public"."plain"; (or let this role act as the owner: GRANT "%s" TO "%s";)]`, me, other, other, me)},
		// The publication's owner drops a table it does not own.
		{"mine", []string{"public.plain"}, true, ""},
		{"mine", nil, true, ""},
		// Without rules (postgres.tables) run never drops a table.
		{"theirs", []string{"public.plain"}, false, ""},
	}
	for _, c := range cases {
		o := CheckOptions{Publication: c.pub, Tables: c.tables, NoTables: c.rules && len(c.tables) == 0, Managed: true, Rules: c.rules}
		fs, err := checkPublication(ctx, db, o)
		if err != nil {
			t.Fatalf("%s %v: %v", c.pub, c.tables, err)
		}
		got := describe(fs)
		if c.want == "" && strings.Contains(got, "FAIL") || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s %v rules=%v: findings\n%s\nwant one starting %q", c.pub, c.tables, c.rules, got, c.want)
		}
		if !c.rules {
			continue
		}
		// PostgreSQL agrees: what run issues on start (pipeline's
		// syncPublication: ADD TABLE, then DROP TABLE, in one transaction)
		// succeeds exactly when check passes.
		pub := Publication{Name: c.pub, OID: pubOID(t, db, c.pub)}
		add, err := MissingMembers(ctx, db, pub, c.tables, ViaRootVersion)
		if err != nil {
			t.Fatal(err)
		}
		drop, err := droppedMembers(ctx, db, o, pub)
		if err != nil || len(drop) == 0 {
			t.Fatalf("%s %v: tables to drop %v, %v; want some", c.pub, c.tables, drop, err)
		}
		var run []string
		if len(add) > 0 {
			run = append(run, "ALTER PUBLICATION "+c.pub+" ADD TABLE "+quoteTables(add))
		}
		run = append(run, "ALTER PUBLICATION "+c.pub+" DROP TABLE "+quoteTables(drop))
		if _, err := db.Exec(ctx, "SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		_, runErr := db.Exec(ctx, strings.Join(run, "; "))
		if _, err := db.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		if (runErr == nil) == strings.Contains(got, "FAIL") {
			t.Errorf("%s %v: %s as the role: %v; check said\n%s", c.pub, c.tables, strings.Join(run, "; "), runErr, got)
		}
	}
}
