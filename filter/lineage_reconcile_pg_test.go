package filter

import (
	"context"
	"testing"
	"time"

	"github.com/walrelay/walrelay/event"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestReconcileLineagePG: ReconcileLineage reads a real catalog. A first
// start with the columns unchanged (a column dropped long before) takes
// their attnums into the state; email is then renamed and retyped while
// walrelay is stopped, and the next start pairs it by attnum, so the
// replayed change from before the rename halts under rules that mask
// only the new name.
func TestReconcileLineagePG(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE public.m1 (id int PRIMARY KEY, gone int, email text, v int);
		ALTER TABLE public.m1 DROP COLUMN gone;`)
	conn := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var oid uint32
	if err := conn.QueryRow(ctx, "SELECT 'public.m1'::regclass::oid").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	m1 := func(cols ...event.Column) *event.Relation {
		return &event.Relation{OID: oid, Schema: "public", Table: "m1", ReplicaIdentity: event.IdentityDefault, Columns: cols}
	}
	id := event.Column{Name: "id", TypeOID: 23, TypeName: "int4", TypeMod: -1, Key: true}
	email := event.Column{Name: "email", TypeOID: 25, TypeName: "text", TypeMod: -1}
	v := event.Column{Name: "v", TypeOID: 23, TypeName: "int4", TypeMod: -1}

	first := mustParse(t, maskedRule, "s")
	mustApply(t, first, at(ins(m1(id, email, v), int32(1), "a@x", int32(10)), 0x100))
	st, _ := first.LineageChanged(true)
	second := mustParse(t, maskedRule, "s")
	second.SeedLineage(st)
	if err := second.ReconcileLineage(ctx, conn); err != nil {
		t.Fatal(err)
	}
	st = second.lineageState()
	if got := mustJSON(t, st.Tables[0].Columns); got != `[{"name":"id","type_oid":23,"type":"int4","attnum":1},`+
		`{"name":"email","type_oid":25,"type":"text","attnum":3},{"name":"v","type_oid":23,"type":"int4","attnum":4}]` {
		t.Fatalf("state after the first start: %s, want the attnums 1, 3, 4", got)
	}

	testenv.ExecDSN(t, dsn, `ALTER TABLE public.m1 RENAME COLUMN email TO email_address;
		ALTER TABLE public.m1 ALTER COLUMN email_address TYPE varchar(200)`)
	third := mustParse(t, maskNewOnly, "s")
	third.SeedLineage(st)
	if err := third.ReconcileLineage(ctx, conn); err != nil {
		t.Fatal(err)
	}
	d, err := third.Apply(at(ins(m1(id, email, v), int32(2), "old2@x", int32(10)), 0x200))
	noPlain(t, "replayed row 2", d, "old2@x")
	requireReplayHalt(t, "replayed row 2", err)
}
