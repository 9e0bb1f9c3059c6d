package snapshot

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestGrantHint: a snapshot statement refused for lack of a privilege
// (LOCK TABLE ... permission denied, as the audit saw with no fix) carries
// the GRANT SELECT that fixes it; other errors get no hint.
func TestGrantHint(t *testing.T) {
	tables := []Table{{Schema: "public", Name: "t_p"}, {Schema: "app", Name: "Orders"}}
	hint := grantHint(&pgconn.PgError{Code: "42501", Message: "permission denied for table t_p"}, tables, "r_nosel")
	want := `GRANT SELECT ON "public"."t_p", "app"."Orders" TO "r_nosel"`
	if !strings.Contains(hint, want) {
		t.Errorf("hint %q lacks %s", hint, want)
	}
	if h := grantHint(errors.New("conn closed"), tables, "r"); h != "" {
		t.Errorf("hint for a connection error: %q, want none", h)
	}
}
