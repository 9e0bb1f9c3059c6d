package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckPGAccessSelect: `walrelay check` fails a captured table the role
// may not read, with the GRANT that fixes it, and passes once granted (the
// audit's check passed, and run then failed on LOCK TABLE after creating
// its slot).
func TestCheckPGAccessSelect(t *testing.T) {
	t.Parallel()
	adminDSN, roleDSN, role := storeTestDB(t)
	testenv.ExecDSN(t, adminDSN, "CREATE TABLE acc_t (id int PRIMARY KEY)")
	db := testenv.Connect(t, roleDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fs := checkPGAccess(ctx, db, []string{"public.acc_t"})
	want := `GRANT SELECT ON "public"."acc_t" TO "` + role + `";`
	var failed []string
	for _, f := range fs {
		if !f.OK && !f.Warn {
			failed = append(failed, f.What+" / "+f.Fix)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], want) || !strings.Contains(failed[0], "public.acc_t") {
		t.Fatalf("check without SELECT: problems %q; want one naming public.acc_t with fix %s", failed, want)
	}
	testenv.ExecDSN(t, adminDSN, "GRANT SELECT ON acc_t TO "+role)
	for _, f := range checkPGAccess(ctx, db, []string{"public.acc_t"}) {
		if !f.OK {
			t.Errorf("check after the GRANT: %s / %s, want ok", f.What, f.Fix)
		}
	}
}
