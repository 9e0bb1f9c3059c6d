package snapshot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// TestGrantHint: the fix of a snapshot statement refused for lack of a
// privilege carries the GRANTs of what the role lacks; other errors get
// no hint.
func TestGrantHint(t *testing.T) {
	hint := grantHint(access{role: "r_nosel", noSelect: []Table{{Schema: "app", Name: "Orders"}}, noUsage: []string{"app"}})
	for _, want := range []string{`GRANT SELECT ON "app"."Orders" TO "r_nosel";`, `GRANT USAGE ON SCHEMA "app" TO "r_nosel";`} {
		if !strings.Contains(hint, want) {
			t.Errorf("hint %q lacks %s", hint, want)
		}
	}
	var r Reader
	if h := r.deniedHint(context.Background(), nil, errors.New("conn closed")); h != "" {
		t.Errorf("hint for a connection error: %q, want none", h)
	}
}

// TestDeniedSnapshotNamesOnlyUnreadable: a snapshot whose LOCK TABLE is
// refused because the role may not read one of its tables names, in the
// GRANT of its error, only the tables the role may not SELECT, as
// `walrelay check` does (the audit saw every table of the LOCK statement
// named, the readable ones too).
func TestDeniedSnapshotNamesOnlyUnreadable(t *testing.T) {
	t.Parallel()
	pg := testenv.PG(t)
	dsn := pg.NewDatabase(t)
	role := fmt.Sprintf("snap_den_%d", time.Now().UnixNano())
	testenv.ExecDSN(t, dsn, `CREATE TABLE den_ok (id int PRIMARY KEY); CREATE TABLE den_secret (id int PRIMARY KEY)`,
		"CREATE ROLE "+role+" LOGIN", "GRANT SELECT ON den_ok TO "+role)
	t.Cleanup(func() { testenv.ExecDSN(t, dsn, "REVOKE ALL ON den_ok FROM "+role, "DROP ROLE IF EXISTS "+role) })
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("DSN %q is not a URL (%v): cannot switch its user", dsn, err)
	}
	u.User = url.User(role)
	roleDSN := u.String()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ex, err := Export(ctx, testenv.Connect(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Release(context.Background()) //nolint:errcheck
	rd, err := Open(ctx, Options{Connect: func(ctx context.Context) (*pgx.Conn, error) { return replication.ConnectSQL(ctx, roleDSN) },
		Snapshot: ex.Name, Tables: []Table{{"public", "den_ok"}, {"public", "den_secret"}}, Parallelism: 1})
	if err == nil {
		rd.Close()
		t.Fatal("snapshot of den_secret as a role that may not read it: no error")
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Fatalf("error %v, want permission denied", err)
	}
	_, msg, _ := strings.Cut(err.Error(), "as the tables' owner") // the statement before names both
	want := `GRANT SELECT ON "public"."den_secret" TO "` + role + `";`
	if !strings.Contains(msg, want) || strings.Contains(msg, `"den_ok"`) {
		t.Errorf("error %q\nwant the GRANT %s, and den_ok (readable) not named", msg, want)
	}
}
