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
	runSetup(t, ctx, db, setup)
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

// TestCheckPublicationAdd: an existing publication that lacks captured
// tables, which walrelay adds on start with ALTER PUBLICATION ... ADD
// TABLE, is a check problem (with the ALTER PUBLICATION to run as the
// owner) when the role does not own the publication or a table to add:
// PostgreSQL refuses the statement. check agrees with PostgreSQL case by
// case; an unmanaged publication is never altered, so it is no problem.
func TestCheckPublicationAdd(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, `CREATE PUBLICATION theirs FOR TABLE plain; CREATE PUBLICATION mine FOR TABLE plain`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := time.Now().UnixNano()
	me, other := fmt.Sprintf("chk_add_%d", n), fmt.Sprintf("chk_addo_%d", n)
	setup := []string{"BEGIN", "CREATE ROLE " + me, "CREATE ROLE " + other,
		"GRANT CREATE ON DATABASE " + db.Config().Database + " TO " + me,
		"ALTER PUBLICATION theirs OWNER TO " + other, "ALTER PUBLICATION mine OWNER TO " + me,
		"CREATE TABLE mytab (id int PRIMARY KEY)", "CREATE TABLE othertab (id int PRIMARY KEY)",
		"ALTER TABLE mytab OWNER TO " + me, "ALTER TABLE othertab OWNER TO " + other,
		"SET LOCAL ROLE " + me}
	runSetup(t, ctx, db, setup)
	cases := []struct {
		pub     string
		tables  []string
		managed bool
		want    string // "" for ok
	}{
		{"mine", []string{"public.plain", "public.mytab"}, true, ""},
		{"mine", []string{"public.plain"}, true, ""},
		{"theirs", []string{"public.plain"}, true, ""},
		{"mine", []string{"public.plain", "public.mytab", "public.othertab"}, true, fmt.Sprintf(`FAIL: publication mine lacks captured tables `+
			`public.mytab, public.othertab and walrelay cannot add them on start: role %s does not own public.othertab `+
			`(ALTER PUBLICATION ... ADD TABLE needs the owner of the publication and of every table it adds, or a superuser) `+
			`[as the owner: ALTER PUBLICATION "mine" ADD TABLE "public"."mytab", "public"."othertab"; `+
			`(or let this role act as the owner: GRANT "%s" TO "%s";)]`, me, other, me)},
		{"theirs", []string{"public.plain", "public.mytab"}, true, fmt.Sprintf(`FAIL: publication theirs lacks captured tables `+
			`public.mytab and walrelay cannot add them on start: role %s does not own publication theirs (owner %s) `, me, other)},
		{"theirs", []string{"public.plain", "public.mytab"}, false, ""},
	}
	for _, c := range cases {
		fs, err := checkPublication(ctx, db, CheckOptions{Publication: c.pub, Tables: c.tables, Managed: c.managed})
		if err != nil {
			t.Fatalf("%s %v: %v", c.pub, c.tables, err)
		}
		got := describe(fs)
		if c.want == "" && strings.Contains(got, "FAIL") || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s %v managed=%v: findings\n%s\nwant one starting %q", c.pub, c.tables, c.managed, got, c.want)
		}
		if !c.managed {
			continue
		}
		// PostgreSQL agrees: the ALTER PUBLICATION run issues on start
		// (EnsurePublication's, of the tables the publication lacks)
		// succeeds exactly when check passes.
		missing, err := MissingMembers(ctx, db, Publication{Name: c.pub, OID: pubOID(t, db, c.pub)}, c.tables, ViaRootVersion)
		if err != nil || len(missing) == 0 {
			continue
		}
		if _, err := db.Exec(ctx, "SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		_, alterErr := db.Exec(ctx, "ALTER PUBLICATION "+c.pub+" ADD TABLE "+quoteTables(missing))
		if _, err := db.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
			t.Fatal(err)
		}
		if (alterErr == nil) != (c.want == "") {
			t.Errorf("%s %v: ALTER PUBLICATION as the role: %v; check said\n%s", c.pub, c.tables, alterErr, got)
		}
	}
}

// pubOID is the OID of publication pub.
func pubOID(t *testing.T, db *pgx.Conn, pub string) uint32 {
	t.Helper()
	p, err := ReadPublication(context.Background(), db, pub)
	if err != nil || !p.Exists {
		t.Fatalf("publication %s: %v, exists %v", pub, err, p.Exists)
	}
	return p.OID
}
