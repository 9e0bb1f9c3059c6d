package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCaptureInheritChild: the changes of an inheritance child of a table
// of postgres.tables (which walrelay's publication publishes with its
// parent) are dropped with a warning that says so and how to capture it,
// not one asking to remove it from the publication; another table's
// warning is unchanged.
func TestCaptureInheritChild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.par (id int PRIMARY KEY);
		CREATE TABLE public.kid (x int) INHERITS (public.par); CREATE TABLE public.grandkid () INHERITS (public.kid);
		CREATE TABLE public.other (id int PRIMARY KEY)`)
	db := testenv.Connect(t, dsn)
	log := &syncBuffer{}
	s := &session{cfg: signalConfig("mine", "public.par"), db: db, log: zerolog.New(log), rs: &runState{}}
	follow, err := s.followTables(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.capture, err = s.newCaptureSet(ctx, follow); err != nil || s.capture == nil {
		t.Fatalf("capture set: %v, %v", s.capture, err)
	}
	byName, err := tablesByName(ctx, db, []string{"public.kid", "public.grandkid", "public.other"})
	if err != nil {
		t.Fatal(err)
	}
	for oid, name := range byName {
		_, table, _ := strings.Cut(name, ".")
		ch := &event.Change{Op: event.OpCreate, Relation: &event.Relation{OID: oid, Schema: "public", Table: table}}
		if s.captures(ch) {
			t.Errorf("%s captured", name)
		}
	}
	if n := log.count(msgInheritChild); n != 2 || !strings.Contains(log.String(), `"table":"public.grandkid","inherits_from":"public.par"`) {
		t.Errorf("%d inheritance warnings, want 2 (kid, grandkid from public.par):\n%s", n, log)
	}
	if strings.Count(log.String(), "remove it from the publication") != 1 {
		t.Errorf("want the removal advice for public.other only:\n%s", log)
	}
}
