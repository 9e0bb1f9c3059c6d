package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/replication"
)

// storeTestDB returns the superuser DSN of a new database (dropped at t's
// cleanup) and the DSN of a new login role without privileges in it; it
// skips t without WALRELAY_TEST_PG_DSN.
func storeTestDB(t *testing.T) (adminDSN, roleDSN, role string) {
	t.Helper()
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set: no PostgreSQL to check the checkpoint store against")
	}
	p := testenv.PG(t)
	role = fmt.Sprintf("fixro_ro_%d", time.Now().UnixNano())
	p.Exec(t, "CREATE ROLE "+role+" LOGIN PASSWORD 'pw'")
	t.Cleanup(func() { testenv.ExecDSN(t, p.DSN(), "DROP ROLE IF EXISTS "+role) }) // after the database is dropped
	adminDSN = p.NewDatabase(t)
	if u, err := url.Parse(adminDSN); err == nil && u.Scheme != "" {
		u.User = url.UserPassword(role, "pw")
		return adminDSN, u.String(), role
	}
	return adminDSN, adminDSN + " user=" + role + " password=pw", role
}

// storeTestConfig loads a config with checkpoint.store store, dsn, a slot
// and publication of the test's own, and a data_dir that does not exist.
func storeTestConfig(t *testing.T, dsn, store string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "walrelay.yaml")
	yaml := fmt.Sprintf("postgres:\n  dsn: %q\n  slot: fixro_slot\n  publication: fixro_pub\nkafka:\n  brokers: [127.0.0.1:1]\n"+
		"topic_prefix: fixro\ndata_dir: %q\ncheckpoint:\n  store: %s\n", dsn, filepath.Join(dir, "missing", "data"), store)
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// checkAndStatus runs the Postgres part of `walrelay check` and `walrelay
// status` with cfg and returns check's findings and status' output.
func checkAndStatus(t *testing.T, cfg *config.Config) ([]replication.Finding, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	findings := checkPostgres(ctx, cfg)
	db := testenv.Connect(t, cfg.Postgres.DSN)
	var out bytes.Buffer
	err := printStatus(ctx, &out, cfg, db)
	return findings, out.String(), err
}

// finding returns the first finding that mentions what.
func finding(findings []replication.Finding, what string) (replication.Finding, bool) {
	for _, f := range findings {
		if strings.Contains(f.What, what) {
			return f, true
		}
	}
	return replication.Finding{}, false
}

// assertUnchanged fails t if the database of adminDSN holds anything
// check or status might have made, or data_dir exists.
func assertUnchanged(t *testing.T, adminDSN string, cfg *config.Config) {
	t.Helper()
	var schema, slot, pub bool
	err := testenv.Connect(t, adminDSN).QueryRow(context.Background(), `SELECT
		EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
		EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $2),
		EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $3)`, checkpoint.Schema, cfg.Postgres.Slot, cfg.Postgres.Publication).
		Scan(&schema, &slot, &pub)
	if err != nil {
		t.Fatal(err)
	}
	if schema || slot || pub {
		t.Errorf("after check and status: schema %s exists %v, slot exists %v, publication exists %v; want none",
			checkpoint.Schema, schema, slot, pub)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("after check and status, data_dir %s: %v; want it not to exist", cfg.DataDir, err)
	}
}

var noneStored = regexp.MustCompile(`(?m)^stored checkpoint\s+none \(postgres store\)$`)

// TestCheckStatusCreateNothing: with checkpoint.store postgres, `walrelay
// check` and `walrelay status` create neither the checkpoint schema and
// table nor data_dir, a slot or a publication. Status says that no
// checkpoint is stored; check says that walrelay run creates the table, or,
// for a role without CREATE on the database, which GRANT lets it. Before,
// both created walrelay.checkpoint, and failed for that role with the
// error of CREATE SCHEMA.
func TestCheckStatusCreateNothing(t *testing.T) {
	adminDSN, roleDSN, role := storeTestDB(t)
	for _, c := range []struct {
		name, dsn, what string
		ok              bool
		fix             string
	}{
		{"superuser", adminDSN, "walrelay.checkpoint is missing; walrelay run creates it", true, ""},
		{"read-only role", roleDSN, fmt.Sprintf("walrelay.checkpoint is missing and role %s may not create it (no CREATE on database", role),
			false, "GRANT CREATE ON DATABASE "},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := storeTestConfig(t, c.dsn, "postgres")
			findings, status, err := checkAndStatus(t, cfg)
			if err != nil || !noneStored.MatchString(status) {
				t.Errorf("status: %v, output:\n%s\nwant no checkpoint stored", err, status)
			}
			f, found := finding(findings, "checkpoint store postgres: walrelay.checkpoint")
			if !found || f.OK != c.ok || !strings.Contains(f.What, c.what) || !strings.Contains(f.Fix, c.fix) ||
				!c.ok && !strings.Contains(f.Fix, `TO "`+role+`"`) {
				t.Errorf("check's finding about the table: %+v (found %v); want ok=%v %q, fix with %q", f, found, c.ok, c.what, c.fix)
			}
			assertUnchanged(t, adminDSN, cfg)
		})
	}
}

// TestCheckStatusOldTable: a checkpoint table of an older walrelay, without
// the catchup column, is read by status (no catch-up) and reported by check
// as upgraded by walrelay run, and neither adds the column.
func TestCheckStatusOldTable(t *testing.T) {
	adminDSN, _, _ := storeTestDB(t)
	testenv.ExecDSN(t, adminDSN, "CREATE SCHEMA "+checkpoint.Schema,
		"CREATE TABLE "+checkpoint.TableName+" (slot text PRIMARY KEY, lsn pg_lsn NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
		"INSERT INTO "+checkpoint.TableName+" (slot, lsn) VALUES ('fixro_slot', '0/16B3748')")
	cfg := storeTestConfig(t, adminDSN, "postgres")
	findings, status, err := checkAndStatus(t, cfg)
	if err != nil || !regexp.MustCompile(`(?m)^stored checkpoint\s+0/16B3748 \(postgres store`).MatchString(status) ||
		strings.Contains(status, "catch-up") {
		t.Errorf("status: %v, output:\n%s\nwant checkpoint 0/16B3748 without catch-up", err, status)
	}
	if f, ok := finding(findings, "lacks column catchup"); !ok || !f.OK || !strings.Contains(f.What, "walrelay run adds it") {
		t.Errorf("check's finding about the old table: %+v (found %v)", f, ok)
	}
	var has bool
	if err := testenv.Connect(t, adminDSN).QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = $1::regclass AND attname = 'catchup')`, checkpoint.TableName).Scan(&has); err != nil || has {
		t.Errorf("after check and status, column catchup exists: %v, %v; want false", has, err)
	}
}

// TestCheckStatusFileStoreNoDataDir: with checkpoint.store file, check and
// status do not create data_dir; check says walrelay run creates it.
func TestCheckStatusFileStoreNoDataDir(t *testing.T) {
	adminDSN, _, _ := storeTestDB(t)
	cfg := storeTestConfig(t, adminDSN, "file")
	findings, status, err := checkAndStatus(t, cfg)
	if err != nil || !strings.Contains(status, "none (file store)") {
		t.Errorf("status: %v, output:\n%s\nwant no checkpoint stored", err, status)
	}
	if f, ok := finding(findings, "does not exist yet; walrelay run creates it"); !ok || !f.OK {
		t.Errorf("check's finding about data_dir: %+v (found %v)", f, ok)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("after check and status, data_dir %s: %v; want it not to exist", cfg.DataDir, err)
	}
}

// TestTableFinding: each state of the checkpoint table that walrelay run
// cannot handle is a problem whose fix is the SQL that lets it; the others
// are ok and say what run does.
func TestTableFinding(t *testing.T) {
	base := checkpoint.TableState{SchemaExists: true, TableExists: true, HasCatchup: true, HasLineage: true, CreateOnDatabase: true,
		CreateOnSchema: true, UsageOnSchema: true, ReadWrite: true, Owner: true, Database: "app", Role: "wr"}
	for _, c := range []struct {
		name   string
		change func(*checkpoint.TableState)
		ok     bool
		text   string // in What when ok, in Fix otherwise
	}{
		{"ready", func(*checkpoint.TableState) {}, true, `role wr may read and write walrelay.checkpoint`},
		{"standby", func(s *checkpoint.TableState) { s.ReadOnly = true }, false, "point postgres.dsn at the primary"},
		{"no schema", func(s *checkpoint.TableState) { s.SchemaExists, s.TableExists = false, false }, true, "walrelay run creates it (and schema walrelay)"},
		{"no schema, no CREATE", func(s *checkpoint.TableState) {
			s.SchemaExists, s.TableExists, s.CreateOnDatabase = false, false, false
		},
			false, `GRANT CREATE ON DATABASE "app" TO "wr";`},
		{"no USAGE", func(s *checkpoint.TableState) { s.UsageOnSchema = false }, false, `GRANT USAGE ON SCHEMA walrelay TO "wr";`},
		{"schema without table", func(s *checkpoint.TableState) { s.TableExists, s.CreateOnDatabase = false, false }, true, "walrelay run creates it"},
		{"schema without table, no CREATE", func(s *checkpoint.TableState) { s.TableExists, s.CreateOnSchema = false, false },
			false, `GRANT CREATE ON SCHEMA walrelay TO "wr";`},
		{"no SELECT", func(s *checkpoint.TableState) { s.ReadWrite = false }, false, `GRANT SELECT, INSERT, UPDATE ON walrelay.checkpoint TO "wr";`},
		{"old table", func(s *checkpoint.TableState) { s.HasCatchup = false }, true, "walrelay run adds it"},
		{"old table, not owner", func(s *checkpoint.TableState) { s.HasCatchup, s.Owner = false, false },
			false, "ALTER TABLE walrelay.checkpoint ADD COLUMN IF NOT EXISTS catchup jsonb;"},
		{"no lineage column", func(s *checkpoint.TableState) { s.HasLineage = false }, true, "lacks column lineage (made by an older walrelay); walrelay run adds it"},
		{"no lineage column, not owner", func(s *checkpoint.TableState) { s.HasLineage, s.Owner = false, false },
			false, "ALTER TABLE walrelay.checkpoint ADD COLUMN IF NOT EXISTS lineage jsonb;"},
	} {
		st := base
		c.change(&st)
		f := tableFinding(st)
		text := f.Fix
		if c.ok {
			text = f.What
		}
		if f.OK != c.ok || !strings.Contains(text, c.text) {
			t.Errorf("%s: %+v; want ok=%v with %q", c.name, f, c.ok, c.text)
		}
	}
}
