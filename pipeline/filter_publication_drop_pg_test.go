package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestSyncPublicationDropNotOwner: a rules edit that stops capturing a
// table makes run drop it from the publication on start (ALTER PUBLICATION
// ... DROP TABLE), which PostgreSQL runs only for the publication's owner,
// whoever owns the table. A role that does not own the publication gets
// PostgreSQL's error with the statement and a hint that asks for what the
// drop needs, the publication's owner, not the tables' (walrelay check
// prints the statement to run as the owner).
func TestSyncPublicationDropNotOwner(t *testing.T) {
	t.Parallel()
	db := partDB(t, "CREATE TABLE gone (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE plain, gone")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := time.Now().UnixNano()
	me, owner := fmt.Sprintf("sync_drop_%d", n), fmt.Sprintf("sync_dropo_%d", n)
	for _, sql := range []string{"CREATE ROLE " + me, "CREATE ROLE " + owner, "ALTER PUBLICATION p OWNER TO " + owner,
		"SET ROLE " + me} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		for _, sql := range []string{"RESET ROLE", "DROP PUBLICATION p", "DROP ROLE " + me, "DROP ROLE " + owner} {
			if _, err := db.Exec(context.Background(), sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	rules := partRules(t, "default: drop\nrules:\n  - tables: [public.plain]\n")
	_, err := syncPublication(ctx, db, "p", rules, nil, nil, zerolog.Nop())
	if err == nil {
		t.Fatal("syncPublication as a role that does not own the publication: no error; want PostgreSQL's refusal")
	}
	for _, want := range []string{`ALTER PUBLICATION "p" DROP TABLE "public"."gone"`, "must be owner of publication p",
		"the role must own the publication, and the tables it adds:", "run it as the owner"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
	}
}
