package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
)

// maskSession is a session whose rules mask public.pkm's email, logging
// to log.
func maskSession(t *testing.T, log *syncBuffer) *session {
	t.Helper()
	rules, err := filter.Parse("rules.yaml", []byte("rules: [{tables: [public.pkm], columns: {mask: [email]}}, {tables: [public.plain]}]"), "salt")
	if err != nil {
		t.Fatal(err)
	}
	st := &filterState{current: rules}
	st.latest.Store(rules)
	cm := checkpoint.NewCommitter(checkpoint.NewTracker(100, 1<<20), &lastPosition{}, "mine", time.Hour, zerolog.Nop())
	return &session{cfg: &config.Config{}, committer: cm, filter: st, log: zerolog.New(log), rs: &runState{}}
}

// A resumed incremental catch-up logs its cursor: a masked key column's
// value must not appear there (the checkpoint keeps it, to resume).
func TestIncrementalResumeLogHidesMaskedKey(t *testing.T) {
	t.Parallel()
	log := &syncBuffer{}
	s := maskSession(t, log)
	s.startIncremental(&checkpoint.Catchup{Tables: []string{"public.pkm", "public.plain"}, Current: "public.pkm",
		After: []string{"pk009088@secret.example"}})
	s.startIncremental(&checkpoint.Catchup{Tables: []string{"public.plain"}, Current: "public.plain", After: []string{"plain-42"}})
	out := log.String()
	if strings.Contains(out, "secret.example") || !strings.Contains(out, `"resume_after":["(masked)"]`) {
		t.Errorf("masked cursor shown in the log:\n%s", out)
	}
	if !strings.Contains(out, `"resume_after":["plain-42"]`) {
		t.Errorf("unmasked cursor not shown as is:\n%s", out)
	}
}

// A chunk read that fails quotes its cursor; on a masked key the error
// (logged, and saved as the halt in status.json) shows it masked.
func TestChunkErrorHidesMaskedKey(t *testing.T) {
	t.Parallel()
	s := maskSession(t, &syncBuffer{})
	cause := errors.New("connection lost")
	after := []string{"pk009088@secret.example"}
	inner := fmt.Errorf("snapshot: reading public.pkm chunk after %q (%v): %w", after, after, cause)
	err := hideCursor(fmt.Errorf("incremental snapshot of public.pkm after %q: %w", after, inner),
		after, s.shownCursor("public.pkm", nil, after))
	if strings.Contains(err.Error(), "secret.example") || !strings.Contains(err.Error(), `["(masked)"]`) {
		t.Errorf("error %q shows the masked cursor", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("error %v does not wrap its cause", err)
	}
	plain := []string{"plain-42"}
	if err := hideCursor(cause, plain, s.shownCursor("public.plain", nil, plain)); err != cause {
		t.Errorf("unmasked table: %v, want the error as is", err)
	}
}
