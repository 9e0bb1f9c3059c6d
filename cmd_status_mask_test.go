package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
)

// TestStatusCursorMasked: walrelay status prints an incremental catch-up's
// cursor; a key column the rules mask is shown as (masked), not in clear
// (the checkpoint holds it to resume from), other tables' keys as stored.
func TestStatusCursorMasked(t *testing.T) {
	t.Parallel()
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules: [{tables: [public.pkm], columns: {mask: [email]}}, {tables: [public.plain]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Rules: rules, MaskSalt: "salt"}
	cfg.Checkpoint.Store = "file"
	cases := []struct{ table, after, want string }{
		{"public.pkm", "pk009088@secret.example", "up to public.pkm key (masked)"},
		{"public.plain", "plain-42", "up to public.plain key (plain-42)"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		pos := checkpoint.Position{LSN: 0x500, UpdatedAt: time.Now(),
			Catchup: &checkpoint.Catchup{Tables: []string{c.table}, Current: c.table, After: []string{c.after}}}
		printStored(&out, cfg, pos, true)
		if text := out.String(); !strings.Contains(text, c.want) {
			t.Errorf("%s: want %q in:\n%s", c.table, c.want, text)
		}
		if c.table == "public.pkm" && strings.Contains(out.String(), "secret.example") {
			t.Errorf("masked cursor shown in clear:\n%s", out.String())
		}
	}
}
