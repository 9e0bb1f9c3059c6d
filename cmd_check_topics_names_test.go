package main

import (
	"context"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/config"
)

// TestCheckTopicNames: check fails a kafka.dead_letter_topic that Kafka's
// naming rules refuse (as run does) and warns about a captured table whose
// default topic is longer than 249 characters, with the fix; a valid
// dead-letter topic and short topics give no finding.
func TestCheckTopicNames(t *testing.T) {
	long := "s" + strings.Repeat("x", 62) + "." + strings.Repeat("t", 63)
	for _, c := range []struct {
		name, dlq, prefix string
		tables            []string
		fail, warn        string
	}{
		{"fine", "app.dlq", "app", []string{"public.a", long}, "", ""},
		{"dlq invalid", "app dlq", "app", []string{"public.a"}, `kafka.dead_letter_topic "app dlq"`, ""},
		{"dlq too long", strings.Repeat("d", 250), "app", []string{"public.a"}, "longer than Kafka's limit of 249", ""},
		{"long topic", "", strings.Repeat("p", 150), []string{"public.a", long}, "", "table " + long + "'s default topic is 278"},
	} {
		cfg := &config.Config{TopicPrefix: c.prefix}
		cfg.Kafka.DeadLetterTopic = c.dlq
		fs := checkTopics(context.Background(), nil, cfg, c.tables)
		want := 0
		for _, w := range []string{c.fail, c.warn} {
			if w != "" {
				want++
			}
		}
		if len(fs) != want {
			t.Errorf("%s: %d findings, want %d: %+v", c.name, len(fs), want, fs)
			continue
		}
		for _, f := range fs {
			switch {
			case c.fail != "" && (f.Warn || f.OK || !strings.Contains(f.What, c.fail) ||
				!strings.Contains(f.Fix, "set kafka.dead_letter_topic")):
				t.Errorf("%s: want a failure with %q and the fix, got %+v", c.name, c.fail, f)
			case c.warn != "" && (!f.Warn || !strings.Contains(f.What, c.warn) || !strings.Contains(f.Fix, "topic:")):
				t.Errorf("%s: want a warning with %q and the fix, got %+v", c.name, c.warn, f)
			}
		}
	}
}
