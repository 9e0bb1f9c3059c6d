package replication

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCheckTablesSummarised (auditscale2): more than okListMax captured
// tables that need nothing, of one kind, share one ok line (2,000 tables
// printed 2,000 "table X: primary key" lines); fewer keep a line each, and
// a table with a problem always has its own line.
func TestCheckTablesSummarised(t *testing.T) {
	t.Parallel()
	var ddl []string
	var tables []string
	for i := range okListMax + 2 {
		ddl = append(ddl, fmt.Sprintf("CREATE TABLE pk%02d (id int PRIMARY KEY)", i))
		tables = append(tables, fmt.Sprintf("public.pk%02d", i))
	}
	ddl = append(ddl, "CREATE TABLE full1 (v int)", "ALTER TABLE full1 REPLICA IDENTITY FULL", "CREATE TABLE nokey (v int)")
	tables = append(tables, "public.full1", "public.nokey")
	db := pubDB(t, strings.Join(ddl, ";"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fs, err := checkTables(ctx, db, CheckOptions{Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(fs)
	want := fmt.Sprintf("ok: %d tables: primary key (public.pk00, public.pk01, public.pk02, … and %d more) []\n", okListMax+2, okListMax-1) +
		"ok: table public.full1: REPLICA IDENTITY FULL []\n"
	if !strings.HasPrefix(got, want) || len(fs) != 3 || fs[2].OK || !strings.Contains(fs[2].What, "public.nokey") {
		t.Errorf("findings:\n%swant:\n%sthen a problem line for public.nokey", got, want)
	}
}
