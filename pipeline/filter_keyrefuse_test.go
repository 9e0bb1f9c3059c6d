package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestOpenFilterRefusesWrongKeys (auditc9 #1): walrelay run took, with a
// warning, a rule that excludes the primary key and a glob rule whose key:
// column a table lacks, then published those tables' records with an empty
// key. Now the first session refuses the rules file, as walrelay check
// FAILs it; a rule naming no existing table is still taken.
func TestOpenFilterRefusesWrongKeys(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE SCHEMA s2;
		CREATE TABLE s2.t1 (id int PRIMARY KEY, amount int, email text);
		CREATE TABLE s2.t2 (id int PRIMARY KEY, name text)`)
	db := testenv.Connect(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range []struct{ rules, want string }{
		{`[{tables: [s2.t1], columns: {exclude: [id]}}]`, `excluded column "id" is part of s2.t1's primary key`},
		{`[{tables: ["s2.*"], key: [email]}]`, `key column "email" does not exist in s2.t2`},
		{`[{tables: [s2.nosuch]}, {tables: [s2.t1]}]`, ""},
	} {
		rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
		if err := os.WriteFile(rulesFile, []byte("rules: "+c.rules+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &session{cfg: &config.Config{DataDir: t.TempDir(), Rules: rulesFile, MaskSalt: "salt"}, db: db,
			log: zerolog.Nop(), rs: &runState{}}
		_, err := s.openFilter(ctx)
		if err == nil {
			s.closeFilter()
		}
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: start: %v; want refused for %q (empty: taken)", c.rules, err, c.want)
		}
	}
}
