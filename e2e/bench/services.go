package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/walrelay/walrelay/devenv"
)

// modulePath is the walrelay module, found with `go env GOMOD`.
const modulePath = "github.com/walrelay/walrelay"

// findModuleRoot returns the directory of walrelay's go.mod: the bench
// builds the binary there and uses its .ci scripts.
func findModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the go tool on PATH?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run the bench from the walrelay checkout (go run ./e2e/bench)")
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", gomod, err)
	}
	if !strings.Contains(string(data), "module "+modulePath) {
		return "", fmt.Errorf("%s is not the walrelay module: run the bench from the walrelay checkout", gomod)
	}
	return filepath.Dir(gomod), nil
}

// services are the PostgreSQL server and Kafka broker of one bench run, and
// how to stop what the bench started.
type services struct {
	dsn        string
	brokers    []string
	recvBin    string // pg_recvlogical
	localPG    bool   // the server runs on this machine (its backends' CPU is readable)
	brokerPID  int    // the Kafka broker the bench started, 0 otherwise
	pgLabel    string
	brokerKind string
	stops      []func()
}

// close stops what the bench started, in reverse order.
func (s *services) close() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// benchPGSettings tune the throwaway cluster for a throughput run: no
// checkpoint and no autovacuum in the middle of a measured phase.
var benchPGSettings = map[string]string{
	"shared_buffers":        "256MB",
	"max_wal_size":          "16GB",
	"checkpoint_timeout":    "1h",
	"autovacuum":            "off",
	"max_replication_slots": "24",
	"max_wal_senders":       "24",
	"wal_sender_timeout":    "60s",
}

// startServices connects to or starts PostgreSQL and Kafka as o asks.
// On error everything already started is stopped.
func startServices(ctx context.Context, o options, root, work string) (*services, error) {
	s := &services{}
	if err := s.startPostgres(ctx, o); err != nil {
		return nil, err
	}
	if err := s.startKafka(ctx, o, root, work); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *services) startPostgres(ctx context.Context, o options) error {
	if o.dsn != "" {
		s.dsn, s.pgLabel = o.dsn, "external (--dsn)"
		s.localPG = dsnIsLocal(o.dsn)
		bin, err := exec.LookPath("pg_recvlogical")
		if err != nil {
			bin = ""
		}
		s.recvBin = bin
		return nil
	}
	progress("starting a throwaway PostgreSQL (devenv) tuned for the run: %s", settingsString(benchPGSettings))
	pg, err := devenv.StartPostgres(ctx, devenv.PGOptions{Settings: benchPGSettings})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	s.stops = append(s.stops, func() { _ = pg.Close() })
	s.dsn, s.localPG = pg.DSN("postgres"), true
	s.pgLabel = "throwaway devenv cluster (fsync=off, autovacuum=off)"
	s.recvBin = filepath.Join(pg.BinDir(), "pg_recvlogical")
	return nil
}

func (s *services) startKafka(ctx context.Context, o options, root, work string) error {
	switch {
	case o.kfake():
		k, err := devenv.StartKafka(ctx)
		if err != nil {
			return fmt.Errorf("start kfake: %w", err)
		}
		s.stops = append(s.stops, k.Close)
		s.brokers = k.Brokers()
		s.brokerKind = "kfake (in-process Kafka-protocol broker inside the bench: NOT a real broker, numbers not comparable)"
		return nil
	case o.brokers != "":
		s.brokers = strings.Split(o.brokers, ",")
		s.brokerKind = "external (--brokers)"
		return nil
	}
	dir := filepath.Join(work, "kafka")
	script := filepath.Join(root, ".ci", "kafka.sh")
	progress("starting a real Kafka broker: bash %s start %s", script, dir)
	cmd := exec.CommandContext(ctx, "bash", script, "start", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bash .ci/kafka.sh start %s: %w (see the lines above)", dir, err)
	}
	s.stops = append(s.stops, func() {
		stop := exec.Command("bash", script, "stop", dir)
		stop.Stdout, stop.Stderr = os.Stderr, os.Stderr
		_ = stop.Run()
	})
	data, err := os.ReadFile(filepath.Join(dir, "brokers"))
	if err != nil {
		return fmt.Errorf("kafka.sh wrote no brokers file: %w", err)
	}
	s.brokers = []string{strings.TrimSpace(string(data))}
	if pid, err := os.ReadFile(filepath.Join(dir, "pid")); err == nil {
		s.brokerPID, _ = strconv.Atoi(strings.TrimSpace(string(pid)))
	}
	v := os.Getenv("KAFKA_VERSION")
	if v == "" {
		v = "4.1.1"
	}
	s.brokerKind = "Apache Kafka " + v + " (KRaft, one node, .ci/kafka.sh)"
	return nil
}

// dsnIsLocal reports whether the DSN points at this machine.
func dsnIsLocal(dsn string) bool {
	for _, h := range []string{"@127.0.0.1", "@localhost", "host=127.0.0.1", "host=localhost", "host=/"} {
		if strings.Contains(dsn, h) {
			return true
		}
	}
	return false
}

func settingsString(m map[string]string) string {
	var parts []string
	for _, k := range []string{"shared_buffers", "max_wal_size", "checkpoint_timeout", "autovacuum"} {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

// progress prints one progress line on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
