package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestStatusUnreadableCheckpoint: `walrelay status` with a role lacking
// USAGE on schema walrelay, where a checkpoint is stored, does not say
// that no checkpoint is stored: its lag line says the checkpoint could not
// be read, and the error names the missing USAGE and the GRANT.
func TestStatusUnreadableCheckpoint(t *testing.T) {
	adminDSN, roleDSN, _ := storeTestDB(t)
	slot := fmt.Sprintf("fixm2_unread_%d", time.Now().UnixNano())
	testenv.ExecDSN(t, adminDSN, checkpoint.CreateTableStatements(),
		"INSERT INTO "+checkpoint.TableName+" (slot, lsn) VALUES ('"+slot+"', '0/1000')",
		"SELECT pg_create_logical_replication_slot('"+slot+"', 'pgoutput')")
	t.Cleanup(func() { testenv.ExecDSN(t, adminDSN, "SELECT pg_drop_replication_slot('"+slot+"')") })
	cfg := storeTestConfig(t, roleDSN, "postgres")
	cfg.Postgres.Slot = slot
	_, out, err := checkAndStatus(t, cfg)
	if strings.Contains(out, "no checkpoint is stored") || !strings.Contains(out, "could not be read") {
		t.Errorf("status output says nothing is stored, or not that the checkpoint could not be read:\n%s", out)
	}
	if err == nil || !strings.Contains(err.Error(), "lacks USAGE on schema "+checkpoint.Schema) ||
		!strings.Contains(err.Error(), "GRANT USAGE ON SCHEMA "+checkpoint.Schema+" TO ") {
		t.Errorf("status error %v; want the missing USAGE and the GRANT", err)
	}
}
