package pipeline

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/filter"
)

// TestLogProblemsCapped (audit auditscale finding 4): 30 rules with the
// same where warning (it reads a column a delete lacks) log the first
// maxProblemLines and one line that counts the rest, at every start and
// SIGHUP, not 30 lines.
func TestLogProblemsCapped(t *testing.T) {
	t.Parallel()
	var src strings.Builder
	src.WriteString("rules:\n")
	var tables []filter.Table
	for i := range 30 {
		name := fmt.Sprintf("t%02d", i)
		fmt.Fprintf(&src, "  - {tables: [s.%s], where: \"row.amount > 100\"}\n", name)
		tables = append(tables, filter.Table{Schema: "s", Name: name, Columns: []string{"id", "amount"},
			Key: []string{"id"}, Identity: []string{"id"}, IdentityKind: "d"})
	}
	var buf bytes.Buffer
	s := &session{cfg: &config.Config{Rules: "rules.yaml"}, log: zerolog.New(&buf)}
	s.logProblems(mustRules(t, src.String()), tables)
	text := buf.String()
	if n := strings.Count(text, "\n"); n != maxProblemLines+1 {
		t.Errorf("%d lines for 30 warnings, want %d:\n%s", n, maxProblemLines+1, text)
	}
	if !strings.Contains(text, "and 20 more like it (30 warnings about the rules in all; walrelay check lists them all)") {
		t.Errorf("no summary of the 20 warnings left out:\n%s", text)
	}
	if !strings.Contains(text, "rules[0].where") || strings.Contains(text, "rules[10].where") {
		t.Errorf("want the first %d warnings, in order:\n%s", maxProblemLines, text)
	}
}
