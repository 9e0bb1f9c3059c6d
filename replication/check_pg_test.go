package replication

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// describe renders findings one a line: "ok|FAIL: what [fix]".
func describe(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		state := "FAIL"
		if f.OK {
			state = "ok"
		}
		fmt.Fprintf(&b, "%s: %s [%s]\n", state, f.What, f.Fix)
	}
	return b.String()
}

// TestCheckPublicationViaRoot: `walrelay check` reports an unmanaged
// publication that publishes partitioned tables without
// publish_via_partition_root, with the ALTER that fixes it; a managed one
// is fine (walrelay sets it on start); one with the setting, or without
// partitioned tables, draws no such finding.
func TestCheckPublicationViaRoot(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL, `CREATE PUBLICATION listed FOR TABLE pt, plain;
		CREATE PUBLICATION mid FOR TABLE pt_b;
		CREATE PUBLICATION alltab FOR ALL TABLES;
		CREATE PUBLICATION plainonly FOR TABLE plain, pt_a;
		CREATE PUBLICATION good FOR TABLE pt WITH (publish_via_partition_root = true)`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases := []struct {
		pub     string
		managed bool
		want    string // the finding after "exists"; "" for none
	}{
		{"listed", false, `FAIL: publication listed publishes partitioned tables (public.pt) without publish_via_partition_root: ` +
			`their changes arrive under each partition's name, so rules or postgres.tables naming only the partitioned table publish none of them ` +
			`[ALTER PUBLICATION "listed" SET (publish_via_partition_root = true);]`},
		{"mid", false, "FAIL: publication mid publishes partitioned tables (public.pt_b) without"},
		{"alltab", false, "FAIL: publication alltab publishes partitioned tables (public.pt) without"},
		{"listed", true, "ok: publication listed lacks publish_via_partition_root (partitioned tables public.pt); walrelay sets it on start []"},
		{"plainonly", false, ""},
		{"good", false, ""},
	}
	for _, c := range cases {
		fs, err := checkPublication(ctx, db, CheckOptions{Publication: c.pub, Tables: []string{"public.pt"}, Managed: c.managed})
		if err != nil {
			t.Fatalf("%s: %v", c.pub, err)
		}
		got := describe(fs)
		exists := fmt.Sprintf("ok: publication %s exists []\n", c.pub)
		rest, ok := strings.CutPrefix(got, exists)
		switch {
		case !ok:
			t.Errorf("%s (managed %v): findings\n%s\ndo not start with %q", c.pub, c.managed, got, exists)
		case c.want == "" && rest != "":
			t.Errorf("%s (managed %v): unexpected findings\n%s", c.pub, c.managed, rest)
		case c.want != "" && (!strings.HasPrefix(rest, c.want) || strings.Count(rest, "\n") != 1):
			t.Errorf("%s (managed %v): findings\n%s\nwant one starting %q", c.pub, c.managed, rest, c.want)
		}
	}
	// The fix works: after it, the same publication draws no finding.
	testenv.ExecDSN(t, db.Config().ConnString(), `ALTER PUBLICATION "listed" SET (publish_via_partition_root = true)`)
	fs, err := checkPublication(ctx, db, CheckOptions{Publication: "listed", Tables: []string{"public.pt"}})
	if err != nil || len(fs) != 1 || !fs[0].OK {
		t.Errorf("after the fix: %v\n%s", err, describe(fs))
	}
}

// TestCheckMissingPublicationFix: the SQL check offers for a publication the
// role may not create carries publish_via_partition_root, as walrelay would
// create it. The role exists only inside a transaction rolled back at the end.
func TestCheckMissingPublicationFix(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	role := fmt.Sprintf("chk_nocreate_%d", time.Now().UnixNano())
	for _, sql := range []string{"BEGIN", "CREATE ROLE " + role, "SET LOCAL ROLE " + role} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	defer func() { _, _ = db.Exec(context.Background(), "ROLLBACK") }()
	fs, err := checkPublication(ctx, db, CheckOptions{Publication: "nope", Tables: []string{"public.pt", "public.plain"}})
	want := `as the tables' owner: CREATE PUBLICATION "nope" FOR TABLE "public"."pt", "public"."plain" WITH (publish_via_partition_root = true);`
	if err != nil || len(fs) != 1 || fs[0].OK || fs[0].Fix != want {
		t.Errorf("missing publication: %v\n%s\nwant one problem with fix %s", err, describe(fs), want)
	}
}

// TestGap: a slot missing, or ahead of the stored checkpoint, is a gap,
// explained in the words `walrelay run` refuses it with; a slot at or
// behind the checkpoint, or invalidated (reported on its own), is not.
func TestGap(t *testing.T) {
	t.Parallel()
	const cp = event.LSN(0x2CE5E88)
	cases := []struct {
		slot SlotInfo
		want string // "" for no gap
	}{
		{SlotInfo{}, `replication slot "s" is missing but a checkpoint at 0/2CE5E88 exists: ` +
			"the changes after it are no longer available and were lost to walrelay"},
		{SlotInfo{Exists: true, ConfirmedFlush: 0x2CE62E0}, `replication slot "s" is at 0/2CE62E0, ahead of the stored ` +
			"checkpoint 0/2CE5E88: the changes in between were consumed by someone else and are lost to walrelay"},
		{SlotInfo{Exists: true, ConfirmedFlush: cp}, ""},
		{SlotInfo{Exists: true, ConfirmedFlush: cp - 8}, ""},
		{SlotInfo{Exists: true, ConfirmedFlush: cp + 8, WALStatus: "lost"}, ""},
	}
	for i, c := range cases {
		what, gap := Gap(c.slot, "s", cp)
		if gap != (c.want != "") || what != c.want {
			t.Errorf("case %d (%+v): Gap = %q, %v; want %q", i, c.slot, what, gap, c.want)
		}
	}
	if !strings.Contains(GapFix, "--allow-gap") || !strings.Contains(GapFix, "snapshot.mode: when_needed") {
		t.Errorf("GapFix %q names neither --allow-gap nor snapshot.mode: when_needed", GapFix)
	}
}

// TestConnectReplicationNoReplicationRole: a role without the REPLICATION
// attribute is refused a walsender (SQLSTATE 42501); the error names the
// role and the ALTER ROLE that fixes it, and is ErrPrivilege.
func TestConnectReplicationNoReplicationRole(t *testing.T) {
	t.Parallel()
	pg := testenv.PG(t)
	role := fmt.Sprintf("conn_norepl_%d", time.Now().UnixNano())
	testenv.ExecDSN(t, pg.DSN(), "CREATE ROLE "+role+" LOGIN NOREPLICATION")
	t.Cleanup(func() { testenv.ExecDSN(t, pg.DSN(), "DROP ROLE IF EXISTS "+role) })
	u, err := url.Parse(pg.DSN())
	if err != nil || u.Scheme == "" {
		t.Fatalf("DSN is not a URL (%v): cannot switch its user", err)
	}
	u.User = url.User(role)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := ConnectReplication(ctx, u.String())
	if err == nil {
		_ = conn.Close(ctx)
		t.Fatal("a role without REPLICATION opened a replication connection")
	}
	want := fmt.Sprintf(`ALTER ROLE "%s" REPLICATION;`, role)
	if !errors.Is(err, ErrPrivilege) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "lacks the REPLICATION attribute") {
		t.Errorf("error %q: want ErrPrivilege, saying the role lacks the REPLICATION attribute, with fix %s", err, want)
	}
}
