package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/internal/testenv"
	"github.com/walrelay/walrelay/pipeline"
)

// TestRunStoreNoSchemaUsage (audit ops 4): a role with SELECT, INSERT and
// UPDATE on walrelay.checkpoint but no USAGE on schema walrelay. walrelay
// run's error gives the fix `walrelay check` gives, GRANT USAGE ON SCHEMA;
// before, it said to grant rights on the table, which the role had, and
// the same error came back after that grant.
func TestRunStoreNoSchemaUsage(t *testing.T) {
	adminDSN, roleDSN, role := storeTestDB(t)
	testenv.ExecDSN(t, adminDSN, checkpoint.CreateTableStatements(),
		"GRANT SELECT, INSERT, UPDATE ON "+checkpoint.TableName+" TO "+role)
	cfg := storeTestConfig(t, roleDSN, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := pipeline.OpenStore(ctx, cfg, true)
	if err == nil { // as run goes on: it loads the checkpoint
		_, _, err = store.Load(ctx)
		store.Close()
	}
	var ae *checkpoint.AccessError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), `GRANT USAGE ON SCHEMA walrelay TO "`+role+`"`) {
		t.Fatalf("run's error: %v; want the GRANT USAGE ON SCHEMA fix", err)
	}
	findings := checkPostgres(ctx, cfg)
	grant := `GRANT USAGE ON SCHEMA walrelay TO "` + role + `"`
	for _, f := range findings {
		if !f.OK && strings.Contains(f.What+" "+f.Fix, grant) {
			return
		}
	}
	t.Errorf("check's findings %+v; want one with %q, as run's", findings, grant)
}
