package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"

	"github.com/walrelay/walrelay/internal/testenv"
)

// BenchmarkSnapshotVsCopy compares walrelay's snapshot of 1,000,000 rows
// over four tables (read, converted, encoded as JSON and acknowledged by
// Kafka) with `COPY (SELECT * FROM t) TO STDOUT` of the same tables into
// io.Discard on the same server, and reports both rates and their ratio:
//
//	snapshot_rows/s       rows / (planning + reading + Kafka acks), from walrelay's "snapshot completed" line
//	snapshot_wall_rows/s  rows / the walrelay process's whole life (start-up, topic creation included)
//	copy_rows/s           rows / the COPYs' time
//	ratio                 snapshot_rows/s / copy_rows/s
//
// Each iteration runs `walrelay run` with snapshot.mode initial_only (which
// exits 0 after the snapshot) into fresh topics. Run it with
//
//	go test ./e2e/ -run '^$' -bench SnapshotVsCopy -benchtime 1x
func BenchmarkSnapshotVsCopy(b *testing.B) {
	dsn, brokers, conn := seededSnapDB(b)

	var snapRate, wallRate, copyRate float64
	b.ResetTimer()
	for i := range b.N {
		rows, took, wall := benchSnapshot(b, dsn, brokers, i)
		snapRate += rows / took.Seconds()
		wallRate += rows / wall.Seconds()
		n, d := benchCopy(b, conn)
		copyRate += float64(n) / d.Seconds()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(snapRate/n, "snapshot_rows/s")
	b.ReportMetric(wallRate/n, "snapshot_wall_rows/s")
	b.ReportMetric(copyRate/n, "copy_rows/s")
	b.ReportMetric(snapRate/copyRate, "ratio")
	b.Logf("snapshot %.0f rows/s (whole process %.0f rows/s), COPY TO STDOUT %.0f rows/s: ratio %.3f",
		snapRate/n, wallRate/n, copyRate/n, snapRate/copyRate)
}

// seededSnapDB returns a new database holding snapLargeRows (vacuumed and
// analyzed), a connection to it that b's cleanup closes, and the brokers.
func seededSnapDB(b *testing.B) (dsn string, brokers []string, conn *pgx.Conn) {
	b.Helper()
	dsn = testenv.PG(b).NewDatabase(b)
	brokers = testenv.Kafka(b).Brokers()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close(context.Background()) })
	snapExec(b, conn, snapDDL)
	seedSnapTables(b, conn, snapLargeRows)
	snapExec(b, conn, "VACUUM ANALYZE")
	return dsn, brokers, conn
}

// benchRelayCmd writes doc as the config in dir and returns the command
// that runs walrelay with it.
func benchRelayCmd(b *testing.B, dir string, doc map[string]any) *exec.Cmd {
	b.Helper()
	cfgPath := filepath.Join(dir, "walrelay.yaml")
	data, err := yaml.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(relayBin, "run", "--config", cfgPath)
	cmd.Env = relayEnv()
	return cmd
}

// benchSnapshot runs walrelay with snapshot.mode initial_only and returns
// the rows and time its "snapshot completed" line reports, and the
// process's wall time.
func benchSnapshot(b *testing.B, dsn string, brokers []string, i int) (rows float64, took, wall time.Duration) {
	b.Helper()
	dir := b.TempDir()
	prefix := fmt.Sprintf("bench-%s-%d", randomSuffix(), i)
	var tables []string
	for _, tb := range snapTables {
		tables = append(tables, "public."+tb.name)
	}
	doc := map[string]any{
		"postgres":     map[string]any{"dsn": dsn, "slot": "bench_" + randomSuffix(), "tables": tables},
		"kafka":        map[string]any{"brokers": brokers, "topic_partitions": 3},
		"topic_prefix": prefix, "format": "json", "data_dir": filepath.Join(dir, "data"),
		"snapshot": map[string]any{"mode": "initial_only"},
	}
	cmd := benchRelayCmd(b, dir, doc)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("walrelay initial_only: %v\n%s", err, tail(log.String(), 20))
	}
	wall = time.Since(start)
	sc := bufio.NewScanner(strings.NewReader(log.String()))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var f struct {
			Message string  `json:"message"`
			Rows    float64 `json:"rows"`
			Took    float64 `json:"took_seconds"`
		}
		if json.Unmarshal(sc.Bytes(), &f) == nil && f.Message == "snapshot completed" {
			return f.Rows, time.Duration(f.Took * float64(time.Second)), wall
		}
	}
	b.Fatalf("no 'snapshot completed' line:\n%s", tail(log.String(), 20))
	return 0, 0, 0
}

// benchCopy copies every snapshot table to io.Discard and returns the rows
// and the time.
func benchCopy(b *testing.B, conn *pgx.Conn) (int64, time.Duration) {
	b.Helper()
	ctx := context.Background()
	var rows int64
	start := time.Now()
	for _, tb := range snapTables {
		tag, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY (SELECT * FROM "+tb.name+") TO STDOUT")
		if err != nil {
			b.Fatalf("COPY %s: %v", tb.name, err)
		}
		rows += tag.RowsAffected()
	}
	return rows, time.Since(start)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
