package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// catchupBenchTables are the keyed tables of snapLargeRows (950,000 rows):
// an incremental catch-up needs a key, and a keyless table would make the
// whole catch-up block.
var catchupBenchTables = []string{"public.snap_accounts", "public.snap_items", "public.snap_orders"}

// BenchmarkCatchup measures a catch-up of 950,000 existing rows over three
// tables (a composite key, REPLICA IDENTITY FULL) that join the capture
// set of a walrelay with a checkpoint, in both modes, encoded as JSON and
// acknowledged by Kafka:
//
//	blocking_rows/s     rows / the blocking catch-up's time ("snapshot completed")
//	incremental_rows/s  rows / the incremental catch-up's time ("incremental snapshot completed"),
//	                    with the stream going on meanwhile (nothing writes here)
//	ratio               incremental_rows/s / blocking_rows/s
//
// Each iteration and mode uses a new slot and publication: a first run
// captures one small table and stores a checkpoint, the second adds the
// three tables. Run it
// with
//
//	go test ./e2e/ -run '^$' -bench Catchup -benchtime 1x
func BenchmarkCatchup(b *testing.B) {
	dsn, brokers, _ := seededSnapDB(b)

	rates := map[string]float64{}
	b.ResetTimer()
	for i := range b.N {
		for _, mode := range []string{"blocking", "incremental"} {
			rows, took := benchCatchup(b, dsn, brokers, mode, i)
			rates[mode] += rows / took.Seconds()
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(rates["blocking"]/n, "blocking_rows/s")
	b.ReportMetric(rates["incremental"]/n, "incremental_rows/s")
	b.ReportMetric(rates["incremental"]/rates["blocking"], "ratio")
	b.Logf("catch-up of %d tables: blocking %.0f rows/s, incremental %.0f rows/s (ratio %.2f)",
		len(catchupBenchTables), rates["blocking"]/n, rates["incremental"]/n, rates["incremental"]/rates["blocking"])
}

// benchCatchup runs walrelay once on marker only (storing a checkpoint),
// then with catchupBenchTables added and snapshot.catchup mode, until the
// catch-up's completion line; it returns that line's rows and time.
func benchCatchup(b *testing.B, dsn string, brokers []string, mode string, i int) (float64, time.Duration) {
	b.Helper()
	dir := b.TempDir()
	doc := map[string]any{
		"postgres": map[string]any{"dsn": dsn, "slot": "bench_" + randomSuffix(), "publication": "bench_" + randomSuffix(),
			"tables": []string{markerTable}},
		"kafka":        map[string]any{"brokers": brokers, "topic_partitions": 3},
		"topic_prefix": fmt.Sprintf("bench-cu-%s-%d", randomSuffix(), i), "format": "json",
		"data_dir": filepath.Join(dir, "data"),
		"snapshot": map[string]any{"mode": "initial", "catchup": mode},
	}
	runRelayUntil(b, dir, doc, "streaming")
	doc["postgres"].(map[string]any)["tables"] = append([]string{markerTable}, catchupBenchTables...)
	done := map[string]string{"blocking": "snapshot completed", "incremental": "incremental snapshot completed"}[mode]
	line := runRelayUntil(b, dir, doc, done)
	var f struct {
		Rows float64 `json:"rows"`
		Took float64 `json:"took_seconds"`
	}
	if err := json.Unmarshal(line, &f); err != nil || f.Rows == 0 {
		b.Fatalf("%s catch-up: completion line %s: %v", mode, line, err)
	}
	return f.Rows, time.Duration(f.Took * float64(time.Second))
}

// runRelayUntil writes doc as the config in dir, runs walrelay until it
// logs msg, stops it with SIGTERM and returns that log line.
func runRelayUntil(b *testing.B, dir string, doc map[string]any, msg string) []byte {
	b.Helper()
	cmd := benchRelayCmd(b, dir, doc)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM) }()
	found := make(chan []byte, 1)
	var last lastLines
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			last.add(sc.Text())
			var f struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(sc.Bytes(), &f) == nil && f.Message == msg {
				found <- append([]byte(nil), sc.Bytes()...)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
		close(found)
	}()
	select {
	case line, ok := <-found:
		if !ok {
			b.Fatalf("walrelay exited before logging %q; its last lines:\n%s", msg, last.String())
		}
		return line
	case <-time.After(90 * time.Second):
		b.Fatalf("walrelay did not log %q within 90 s; its last lines:\n%s", msg, last.String())
	}
	return nil
}

// lastLines keeps the last 20 lines it was given; safe for one writer and
// one reader.
type lastLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lastLines) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines = append(l.lines, s); len(l.lines) > 20 {
		l.lines = l.lines[1:]
	}
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
