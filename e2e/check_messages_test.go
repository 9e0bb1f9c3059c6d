package e2e

import (
	"strings"
	"testing"
)

// TestCheckMessagesOnlyRules: a rules file that routes logical decoding
// messages and captures no table (README: publish an event atomically with
// the application's writes without any outbox table) passes walrelay check,
// which says so, as walrelay run accepts it (audit: it failed with "rules
// capture no existing table").
func TestCheckMessagesOnlyRules(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	mustExec(t, connect(t, dsn), checkDDL)
	cfg := newRelayConfig(t, dsn, kafkaBrokers(t))
	useRules(t, cfg, "default: drop\nmessages:\n  - prefix: chk_ev\n    topic: PREFIX.chkmsg\n")
	out, code := runCheck(t, cfg)
	if code != 0 {
		t.Errorf("check exit %d with a messages-only rules file, want 0", code)
	}
	requireWords(t, "check output", out, "rules capture no table, only logical decoding messages")
	if strings.Contains(out, "capture no existing table") {
		t.Errorf("check reports a messages-only rules file as capturing nothing:\n%s", out)
	}
}
