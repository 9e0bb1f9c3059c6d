package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckFilter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "rules.yaml")
	masks := filepath.Join(dir, "masks.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	for path, body := range map[string]string{
		good:  "rules:\n  - tables: [public.orders]\n",
		masks: "rules:\n  - tables: [public.customers]\n    columns: {mask: [email]}\n",
		bad:   "rules:\n  - tables: [public.orders]\n    opertions: [insert]\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	withTables := strings.Replace(minimal, "postgres:\n", "postgres:\n  tables: [public.x]\n", 1)
	cases := []struct {
		base  string
		extra string
		env   []string
		want  string // "" = valid
	}{
		{minimal, "rules: " + good + "\n", nil, ""},
		{minimal, "rules: " + masks + "\nmask_salt: pepper\n", nil, ""},
		{minimal, "rules: " + masks + "\n", []string{"WALRELAY_MASK_SALT=pepper"}, ""},
		{minimal, "rules: " + masks + "\n", nil, "masking needs a salt"},
		{minimal, "rules: " + bad + "\n", nil, `:5: rules: rules file ` + bad + " has errors:\n" + bad + `:3:5: rules[0]: unknown key "opertions" (did you mean "operations"?)`},
		{minimal, "rules: " + filepath.Join(dir, "missing.yaml") + "\n", nil, "cannot read rules file"},
		{withTables, "rules: " + good + "\n", nil, "postgres.tables: cannot be used together with rules"},
		{minimal, "publication:\n  poll_interval: -1s\n", nil, "publication.poll_interval: must be positive"},
	}
	for _, c := range cases {
		_, err := Load(writeConfig(t, c.base+c.extra), c.env)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.extra, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: error %v, want %q", c.extra, err, c.want)
		}
	}
}
