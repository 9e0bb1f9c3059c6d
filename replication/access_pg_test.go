package replication

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/internal/testenv"
)

// asRoleWithoutSelect switches db, for the rest of an open transaction, to
// a new role that may read nothing (rolled back at t's cleanup).
func asRoleWithoutSelect(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	role := fmt.Sprintf("acc_nosel_%d", time.Now().UnixNano())
	for _, sql := range []string{"BEGIN", "CREATE ROLE " + role, "SET LOCAL ROLE " + role} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() { _, _ = db.Exec(context.Background(), "ROLLBACK") })
	return role
}

// TestEnsurePublicationNeedsSelect: a role that may not read a configured
// table is refused before walrelay creates anything (the publication, and
// so the slot after it), with the GRANT that fixes it (the audit's run
// created the slot, then failed on LOCK TABLE with no hint).
func TestEnsurePublicationNeedsSelect(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL)
	role := asRoleWithoutSelect(t, db)
	_, err := ensure(t, db, "acc_p", "public.plain")
	want := `GRANT SELECT ON "public"."plain" TO "` + role + `";`
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrPrivilege) {
		t.Fatalf("EnsurePublication as a role without SELECT = %v; want ErrPrivilege with %s", err, want)
	}
}

// TestEnsurePublicationWarnsWhenDropped: a publication this process found
// before and finds missing at a later session start is created again with
// a warning that it was dropped while walrelay ran (the audit saw only an
// info line).
func TestEnsurePublicationWarnsWhenDropped(t *testing.T) {
	t.Parallel()
	db := pubDB(t, testenv.PartitionedDDL)
	log, err := ensure(t, db, "acc_d", "public.plain")
	if err != nil || strings.Contains(log, `"level":"warn"`) {
		t.Fatalf("first EnsurePublication: %v, log %s; want it created without a warning", err, log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.Exec(ctx, "DROP PUBLICATION acc_d"); err != nil {
		t.Fatal(err)
	}
	log, err = ensure(t, db, "acc_d", "public.plain")
	if err != nil || !strings.Contains(log, `"level":"warn"`) || !strings.Contains(log, PublicationDroppedMessage) {
		t.Fatalf("EnsurePublication after DROP PUBLICATION: %v, log %s; want a warning %q", err, log, PublicationDroppedMessage)
	}
}

// TestPublicationDroppedClassified: the walsender's "publication does not
// exist" for the streamed publication becomes a PublicationDroppedError
// that names the slot and the way past the gap; other errors stay as they
// are.
func TestPublicationDroppedClassified(t *testing.T) {
	pe := &pgconn.PgError{Severity: "ERROR", Code: "42704", Message: `publication "pub" does not exist`}
	var d *PublicationDroppedError
	if err := publicationDropped(pe, "pub", "slot1"); !errors.As(err, &d) {
		t.Fatalf("publicationDropped(%v) = %v, want a PublicationDroppedError", pe, err)
	}
	for _, w := range []string{`publication "pub" was dropped`, "pg_drop_replication_slot('slot1')", GapFix} {
		if !strings.Contains(d.Error(), w) {
			t.Errorf("message lacks %q:\n%s", w, d.Error())
		}
	}
	other := &pgconn.PgError{Code: "42704", Message: `type "x" does not exist`}
	if err := publicationDropped(other, "pub", "slot1"); errors.As(err, &d) {
		t.Errorf("publicationDropped(%v) = %v, want it unchanged", other, err)
	}
}

// TestStandbyProblem: a hot standby before PostgreSQL 16 cannot decode,
// and the fix points the DSN at the primary; 16+ and primaries pass.
func TestStandbyProblem(t *testing.T) {
	if what, fix := (Access{InRecovery: true, Version: 150004}).StandbyProblem(); what == "" || !strings.Contains(fix, "primary") {
		t.Errorf("PG 15 standby: %q, %q; want a problem whose fix names the primary", what, fix)
	}
	for _, a := range []Access{{InRecovery: true, Version: 160000}, {Version: 150004}} {
		if what, _ := a.StandbyProblem(); what != "" {
			t.Errorf("%+v: %q, want no problem", a, what)
		}
	}
}
