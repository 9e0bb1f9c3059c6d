package main

import (
	"context"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/config"
)

// TestCheckTopicNames: check warns about a captured table whose default
// topic is longer than 249 characters, with the fix; short topics give no
// finding. (An invalid kafka.dead_letter_topic is refused by config.Load,
// once, with its line or variable: config's TestDeadLetterTopic.)
func TestCheckTopicNames(t *testing.T) {
	long := "s" + strings.Repeat("x", 62) + "." + strings.Repeat("t", 63)
	for _, c := range []struct {
		name, prefix string
		tables       []string
		warn         string
	}{
		{"fine", "app", []string{"public.a", long}, ""},
		{"long topic", strings.Repeat("p", 150), []string{"public.a", long}, "table " + long + "'s default topic is 278"},
	} {
		fs := checkTopics(context.Background(), nil, &config.Config{TopicPrefix: c.prefix}, c.tables)
		switch {
		case c.warn == "" && len(fs) > 0:
			t.Errorf("%s: unexpected findings %+v", c.name, fs)
		case c.warn != "" && (len(fs) != 1 || !fs[0].Warn || !strings.Contains(fs[0].What, c.warn) || !strings.Contains(fs[0].Fix, "topic:")):
			t.Errorf("%s: want one warning with %q and the fix, got %+v", c.name, c.warn, fs)
		}
	}
}
