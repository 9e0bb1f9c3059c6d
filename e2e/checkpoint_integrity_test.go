package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestCheckpointAheadOfServerRefused: a stored checkpoint past the server's
// WAL (copied from another cluster, an old data_dir backup, a PostgreSQL
// restored to an earlier point) is refused by check, status and run, naming
// both LSNs, and the slot is not moved; so is one recorded for another
// PostgreSQL system (audit finding 1).
func TestCheckpointAheadOfServerRefused(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)
	r.stop()
	path := filepath.Join(cfg.DataDir, "checkpoint.json")
	var rec map[string]any
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &rec) != nil || rec["system_id"] == nil || rec["database"] == nil {
		t.Fatalf("checkpoint file %s (%v): want system_id and database recorded", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	confirmed, _, err := slotLSNs(ctx, conn, cfg.Slot)
	if err != nil {
		t.Fatal(err)
	}
	future := currentLSN(t, conn) + 64<<20
	writeCheckpoint(t, path, rec, "lsn", future.String())

	out, errOut, code := runWalrelay(t, 30*time.Second, "check", "--config", cfg.path)
	if code == 0 {
		t.Errorf("check passed a checkpoint ahead of the server:\n%s", out)
	}
	requireWords(t, "check", out+errOut, future.String(), "ahead of the server's current WAL position")
	out, errOut, code = runWalrelay(t, 30*time.Second, "status", "--config", cfg.path)
	if code == 0 {
		t.Errorf("status accepted a checkpoint ahead of the server:\n%s", out)
	}
	requireWords(t, "status", out+errOut, future.String(), "ahead of the server's current WAL position")

	rr := spawnRelay(t, cfg)
	if code := rr.waitExit(30 * time.Second); code == 0 {
		t.Fatal("run exited 0 over a checkpoint ahead of the server")
	}
	requireWords(t, "run's error", errorLine(rr.output()), future.String(), "ahead of the server's current WAL position",
		"mv "+path, "restored from")
	if rr.findLog("streaming") != nil {
		t.Fatal("run streamed from a checkpoint ahead of the server")
	}
	if now, _, err := slotLSNs(ctx, conn, cfg.Slot); err != nil || now != confirmed {
		t.Fatalf("slot confirmed position %s (%v); want it left at %s", now, err, confirmed)
	}

	writeCheckpoint(t, path, rec, "system_id", "1") // back at a good LSN, but of another system
	rr = spawnRelay(t, cfg)
	if code := rr.waitExit(30 * time.Second); code == 0 {
		t.Fatal("run exited 0 over a checkpoint of another PostgreSQL system")
	}
	requireWords(t, "run's error", errorLine(rr.output()), "written for PostgreSQL system 1")
}

// writeCheckpoint writes rec with key set to v as the checkpoint file.
func writeCheckpoint(t *testing.T, path string, rec map[string]any, key, v string) {
	t.Helper()
	m := map[string]any{}
	for k, x := range rec {
		m[k] = x
	}
	m[key] = v
	b, _ := json.Marshal(m)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointVanishedWhileRunning: the data_dir deleted, or the
// checkpoint table dropped, under a running walrelay: it writes back the
// checkpoint it held with a warning, takes the data_dir lock again, and
// publishes the changes made meanwhile as change events, with no snapshot
// (audit finding 2).
func TestCheckpointVanishedWhileRunning(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"file", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			dsn, brokers, conn := newTestDB(t, "CREATE TABLE cv (id int PRIMARY KEY, v int);"+markerDDL)
			cfg := newRelayConfig(t, dsn, brokers, "public.cv", markerTable)
			cfg.set("checkpoint.store", store)
			col := newCollector(t, brokers, cfg.topics()...)
			r := startRelay(t, cfg)
			mustExec(t, conn, "INSERT INTO cv SELECT g, 0 FROM generate_series(1, 10) g")
			catchUp(t, cfg, conn, col, col, time.Minute)
			if store == "file" {
				if err := os.RemoveAll(cfg.DataDir); err != nil {
					t.Fatal(err)
				}
			} else {
				mustExec(t, conn, "DROP TABLE walrelay.checkpoint")
			}
			for i := 1; i <= 20; i++ {
				mustExec(t, conn, fmt.Sprintf("UPDATE cv SET v = %d WHERE id = %d", i, i%10+1))
			}
			catchUp(t, cfg, conn, col, col, time.Minute) // past the failed save and the restart
			ops := countOps(byTopic(col.recs)[cfg.topic("public.cv")])
			updates, reads := ops["u"], ops["r"]
			if updates < 20 || reads != 0 {
				t.Fatalf("public.cv: %d update and %d read events; want all 20 updates as change events and no snapshot", updates, reads)
			}
			if r.findLog("the stored checkpoint vanished while walrelay ran: re-created it from the checkpoint this process "+
				"held and resumes from there (no snapshot); stop walrelay before removing a checkpoint to start afresh") == nil {
				t.Error("no warning says the checkpoint vanished and was re-created")
			}
			if store == "file" {
				if _, err := os.Stat(filepath.Join(cfg.DataDir, "walrelay.lock")); err != nil {
					t.Fatalf("data_dir lock not re-created: %v", err)
				}
				second := spawnRelay(t, cfg)
				if code := second.waitExit(30 * time.Second); code == 0 {
					t.Fatal("a second walrelay was admitted to the re-created data_dir")
				}
				requireWords(t, "second walrelay", errorLine(second.output()), "in use by walrelay process")
			}
		})
	}
}

// TestCheckpointDatabaseRenamed: ALTER DATABASE ... RENAME while walrelay
// is stopped keeps its checkpoint (LSNs are cluster-wide and the slot
// belongs to the renamed database): check passes, run resumes from it and
// publishes the changes made meanwhile as change events, with no snapshot,
// logs the rename and records the new name at its next save (audit auditc3
// finding 1).
func TestCheckpointDatabaseRenamed(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE rn (id int PRIMARY KEY, v int);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.rn", markerTable)
	col := newCollector(t, brokers, cfg.topics()...)
	r := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO rn SELECT g, 0 FROM generate_series(1, 10) g")
	catchUp(t, cfg, conn, col, col, time.Minute)
	r.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var oldName string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&oldName); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	newName := oldName + "_rn"
	pg := testenv.PG(t)
	rename := func(from, to string) {
		pg.Exec(t, fmt.Sprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", from),
			fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", pgx.Identifier{from}.Sanitize(), pgx.Identifier{to}.Sanitize()))
	}
	rename(oldName, newName)
	t.Cleanup(func() { // before newRelayConfig's and newDatabase's cleanups, which use the old name
		rename(newName, oldName)
		cfg.DSN = dsn
	})
	cfg.DSN = pg.DSNFor(t, newName)
	cfg.set("postgres.dsn", cfg.DSN)
	cfg.writeFile()
	conn = connect(t, cfg.DSN)
	for i := 1; i <= 20; i++ { // while walrelay is stopped
		mustExec(t, conn, fmt.Sprintf("UPDATE rn SET v = %d WHERE id = %d", i, i%10+1))
	}

	out, errOut, code := runWalrelay(t, 30*time.Second, "check", "--config", cfg.path)
	if code != 0 {
		t.Fatalf("check refused the checkpoint of the renamed database:\n%s%s", out, errOut)
	}
	r = startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)
	ops := countOps(byTopic(col.recs)[cfg.topic("public.rn")])
	updates, reads := ops["u"], ops["r"]
	if updates != 20 || reads != 0 {
		t.Fatalf("public.rn: %d update and %d read events; want the 20 updates as change events and no snapshot", updates, reads)
	}
	requireWords(t, "run's log", r.output(), "the database was renamed", `"recorded_database":"`+oldName+`"`)
	var rec map[string]any
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "checkpoint.json"))
	if err != nil || json.Unmarshal(b, &rec) != nil || rec["database"] != newName {
		t.Fatalf("checkpoint file %s (%v): want database %q recorded at the next save", b, err, newName)
	}
	r.stop()
}
