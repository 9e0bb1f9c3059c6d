package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestUnmanagedNotViaRootPublishesNothing: an unmanaged publication of a
// partitioned table without publish_via_partition_root, with rules naming
// only the partitioned table, publishes nothing of it (its changes and
// snapshot rows come under the partitions' names, which the rules drop):
// the start-up warning says so, with the fix, instead of sending the
// snapshot rows to the partitioned table's topic; rules that capture the
// partitions get the other warning.
func TestUnmanagedNotViaRootPublishesNothing(t *testing.T) {
	t.Parallel()
	db := partDB(t, "CREATE PUBLICATION p FOR TABLE pt, plain")
	check := func(rules string) string {
		var buf bytes.Buffer
		if err := checkUnmanagedPublication(context.Background(), db, "p", partRules(t, rules), nil, zerolog.New(&buf)); err != nil {
			t.Fatalf("checkUnmanagedPublication: %v", err)
		}
		return buf.String()
	}
	log := check("rules:\n  - tables: [public.pt, public.plain]\n")
	if !strings.Contains(log, "nothing of these partitioned tables is published") ||
		!strings.Contains(log, `"partitioned_tables":["public.pt"]`) ||
		!strings.Contains(log, `SET (publish_via_partition_root = true)`) {
		t.Errorf("rules naming pt only: log %q lacks the nothing-published warning with its fix", log)
	}
	if strings.Contains(log, "under the partitioned table's") && !strings.Contains(log, "not under the partitioned table's") {
		t.Errorf("log %q says rows go to the partitioned table's topic", log)
	}
	log = check("rules:\n  - tables: [\"public.pt_*\"]\n")
	if strings.Contains(log, "nothing of these") || !strings.Contains(log, "under each partition's name and topic") {
		t.Errorf("rules capturing the partitions: log %q, want the per-partition warning only", log)
	}
}
