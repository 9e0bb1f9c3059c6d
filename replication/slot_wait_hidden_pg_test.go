package replication

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestOpenTransactionsHidden: to a role without pg_read_all_stats, another
// role's open transaction is named by what the role may see (pid, database,
// user, application_name) and the line says its state and xact_start are
// hidden and how to see them, instead of printing them empty. The role
// exists only inside a transaction rolled back at the end.
func TestOpenTransactionsHidden(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, "CREATE TABLE t (id int)")
	_, pid := testenv.OpenTx(t, dsn, "pgfix2_hidden", "INSERT INTO t VALUES (1)")
	db := testenv.Connect(t, dsn)
	var owner string // the blocker's user, as the test connects
	if err := db.QueryRow(ctx, "SELECT current_user::text").Scan(&owner); err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("chk_peek_%d", time.Now().UnixNano())
	for _, sql := range []string{"BEGIN", "CREATE ROLE " + role, "SET LOCAL ROLE " + role} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	defer func() { _, _ = db.Exec(context.Background(), "ROLLBACK") }()
	list, err := OpenTransactions(ctx, db, 1000) // every one: other tests hold transactions too
	if err != nil {
		t.Fatal(err)
	}
	prefix := "pid " + strconv.Itoa(pid) + " ("
	var line string
	for _, x := range list {
		if strings.HasPrefix(x, prefix) {
			line = x
		}
	}
	want := fmt.Sprintf("user %s, application_name 'pgfix2_hidden'; its state and xact_start are hidden from role %s: "+
		"GRANT pg_read_all_stats TO %s; to see them)", owner, role, role)
	if !strings.Contains(line, want) || strings.Contains(line, "state ,") {
		t.Errorf("open transaction of pid %d as role %s: %q\nwant it to end %q (all: %q)", pid, role, line, want, list)
	}
}
