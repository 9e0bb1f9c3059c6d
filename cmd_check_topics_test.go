package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckTopicsShared: check warns (without failing) about captured
// tables whose default topics collide, naming both tables, the topic and
// the rule that parts them: capture-all, postgres.tables, and rules, where
// a rule's topic: for one of them ends the warning.
func TestCheckTopicsShared(t *testing.T) {
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE SCHEMA "日本"; CREATE TABLE "日本"."日本" (id int PRIMARY KEY);
		CREATE SCHEMA "中国"; CREATE TABLE "中国"."中国" (id int PRIMARY KEY);
		CREATE TABLE "a.b" (id int PRIMARY KEY); CREATE TABLE a_b (id int PRIMARY KEY);
		CREATE TABLE plain (id int PRIMARY KEY)`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	routed := filepath.Join(dir, "routed.yaml")
	if err := os.WriteFile(routed, []byte("rules:\n  - tables: [\"中国.中国\"]\n    topic: app.china\n  - tables: [\"public.*\"]\n"+
		"default: capture\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		rules    string
		captured []string
		want     []string
	}{
		{"capture-all", "", nil, []string{"share topic app.__.__", "public.a.b (app.public.a.b) and public.a_b"}},
		{"postgres.tables", "", []string{"日本.日本", "中国.中国", "public.plain"}, []string{"日本.日本 and 中国.中国 share topic app.__.__"}},
		{"rules route one", routed, []string{"public.a.b", "public.a_b", "public.plain", "中国.中国", "日本.日本"},
			[]string{"public.a.b (app.public.a.b) and public.a_b"}},
	} {
		cfg := &config.Config{TopicPrefix: "app", Rules: c.rules}
		fs := checkTopics(ctx, db, cfg, c.captured)
		if len(fs) != len(c.want) {
			t.Errorf("%s: %d findings, want %d: %+v", c.name, len(fs), len(c.want), fs)
			continue
		}
		for _, w := range c.want {
			found := false
			for _, f := range fs {
				found = found || f.Warn && !f.OK && strings.Contains(f.What, w) && strings.Contains(f.Fix, "topic:")
			}
			if !found {
				t.Errorf("%s: no warning containing %q with a topic: fix in %+v", c.name, w, fs)
			}
		}
	}
}
