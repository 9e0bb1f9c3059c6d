//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/walrelay/walrelay/checkpoint"
	"github.com/walrelay/walrelay/internal/testenv"
)

// envMainArgs makes TestMainProcess run main() with these arguments
// (space-separated) in a child process of the test binary.
const envMainArgs = "WALRELAY_TEST_MAIN_ARGS"

// TestMainProcess is not a test: run by TestRunSurvivesClosedPipe as a
// child process, it is `walrelay` itself (main, which exits).
func TestMainProcess(t *testing.T) {
	args := os.Getenv(envMainArgs)
	if args == "" {
		t.Skip("only run as the walrelay child process of another test")
	}
	os.Args = append([]string{"walrelay"}, strings.Fields(args)...)
	main()
}

// TestRunSurvivesClosedPipe (audit ops 8): `walrelay run ... | tee log`
// stopped with Ctrl-C, which ends tee too: walrelay's stdout and stderr are
// a pipe without a reader when its shutdown logs. It must still drain,
// write its final checkpoint and exit 0, not die of SIGPIPE (exit 141 in
// a shell) at its first shutdown line.
func TestRunSurvivesClosedPipe(t *testing.T) {
	t.Parallel()
	if os.Getenv(testenv.EnvPGDSN) == "" {
		t.Skip(testenv.EnvPGDSN + " is not set")
	}
	dsn := testenv.PG(t).NewDatabase(t)
	brokers := testenv.Kafka(t).Brokers()
	testenv.ExecDSN(t, dsn, "CREATE TABLE pipe_t (id int PRIMARY KEY, v text)")
	dir := t.TempDir()
	slot := fmt.Sprintf("opspipe_%d", time.Now().UnixNano())
	cfg := filepath.Join(dir, "walrelay.yaml")
	body := fmt.Sprintf("postgres:\n  dsn: %q\n  slot: %s\n  publication: %s\n  tables: [public.pipe_t]\n"+
		"kafka:\n  brokers: [%s]\n  topic_replication_factor: 1\ntopic_prefix: %s\nformat: json\ndata_dir: %q\n"+
		"checkpoint:\n  interval: 1h\nlog:\n  format: json\n",
		dsn, slot, slot, strings.Join(brokers, ", "), strings.ReplaceAll(slot, "_", "-"), filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = append(os.Environ(), envMainArgs+"=run --config "+cfg)
	cmd.Stdout, cmd.Stderr = wr, wr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if !waitLine(rd, `"message":"streaming"`, time.Minute) {
		t.Fatal("walrelay did not log streaming")
	}
	testenv.ExecDSN(t, dsn, "INSERT INTO pipe_t SELECT g, 'x' FROM generate_series(1, 100) g")
	var want string
	db := testenv.Connect(t, dsn)
	if err := db.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&want); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // let it read the insert; the checkpoint interval saves it only at the stop
	rd.Close()              // tee gone
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() || err != nil {
		t.Fatalf("walrelay with its output pipe closed, after SIGINT: %v (state %v); want exit 0", err, cmd.ProcessState)
	}
	st, err := checkpoint.NewFileReader(filepath.Join(dir, "data"), slot)
	if err != nil {
		t.Fatal(err)
	}
	pos, found, err := st.Load(context.Background())
	if end, perr := pglogrepl.ParseLSN(want); err != nil || perr != nil || !found || uint64(pos.LSN) < uint64(end) {
		t.Errorf("final checkpoint %v (found %v, %v); want at or past %s, the insert's end", pos.LSN, found, err, want)
	}
}

// waitLine reads r until a line contains s; false at EOF or after timeout.
func waitLine(r *os.File, s string, timeout time.Duration) bool {
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		return ok
	case <-time.After(timeout):
		return false
	}
}
