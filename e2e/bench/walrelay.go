package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"gopkg.in/yaml.v3"

	"github.com/walrelay/walrelay/devenv"
	"github.com/walrelay/walrelay/internal/dbzserver"
)

// relayBinary is a walrelay binary under test.
type relayBinary struct {
	label      string // "walrelay", or "walrelay-B" for --compare-bin
	tag        string // slot name part: wr or wrb
	path       string
	cpuProfile bool // `walrelay run` takes --cpuprofile
}

// buildRelay builds walrelay from the module root into work (without -race:
// the numbers are the product's).
func buildRelay(ctx context.Context, root, work string) (relayBinary, error) {
	path := filepath.Join(work, "walrelay")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return relayBinary{}, fmt.Errorf("go build -o %s . (in %s): %w\n%s", path, root, err, out)
	}
	return newRelayBinary(ctx, "walrelay", "wr", path)
}

// newRelayBinary checks that path runs and whether it takes --cpuprofile.
func newRelayBinary(ctx context.Context, label, tag, path string) (relayBinary, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return relayBinary{}, fmt.Errorf("%s binary %s: %w", label, path, err)
	}
	bin := relayBinary{label: label, tag: tag, path: abs}
	out, err := exec.CommandContext(ctx, abs, "version").CombinedOutput()
	if err != nil {
		return bin, fmt.Errorf("%s binary %s: `version` failed: %w\n%s", label, abs, err, out)
	}
	help, _ := exec.CommandContext(ctx, abs, "run", "-h").CombinedOutput()
	bin.cpuProfile = strings.Contains(string(help), "-cpuprofile")
	return bin, nil
}

// relayConfig is the part of walrelay's YAML config the bench sets; the rest
// keeps walrelay's defaults (kafka batching, limits, checkpoint interval).
type relayConfig struct {
	Postgres struct {
		DSN         string   `yaml:"dsn"`
		Slot        string   `yaml:"slot"`
		Publication string   `yaml:"publication"`
		Tables      []string `yaml:"tables"`
	} `yaml:"postgres"`
	Kafka struct {
		Brokers []string `yaml:"brokers"`
	} `yaml:"kafka"`
	TopicPrefix string `yaml:"topic_prefix"`
	Format      string `yaml:"format"`
	DataDir     string `yaml:"data_dir"`
}

// writeRelayConfig writes the config for one walrelay run into dir and
// returns its path.
func (b *bench) writeRelayConfig(dir, slot, pub, prefix, format string, tables []string) (string, error) {
	var c relayConfig
	c.Postgres.DSN, c.Postgres.Slot, c.Postgres.Publication, c.Postgres.Tables = b.svc.dsn, slot, pub, tables
	c.Kafka.Brokers = b.svc.brokers
	c.TopicPrefix, c.Format, c.DataDir = prefix, format, filepath.Join(dir, "data")
	data, err := yaml.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("walrelay config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("walrelay run directory: %w", err)
	}
	path := filepath.Join(dir, "walrelay.yaml")
	return path, os.WriteFile(path, data, 0o600)
}

// relayEnv is the environment of a walrelay process: no snapshot (the slots
// exist before the backlog, so the backlog is streamed, not snapshotted; a
// build without snapshot support ignores the variable), a private port for
// the embedded schema registry (Avro), and --walrelay-env's variables.
func (b *bench) relayEnv() []string {
	port, err := devenv.FreePort()
	if err != nil {
		port = 18081
	}
	env := []string{"WALRELAY_SNAPSHOT_MODE=never", fmt.Sprintf("WALRELAY_SCHEMA_REGISTRY_LISTEN=127.0.0.1:%d", port)}
	return dbzserver.ChildEnv(append(env, b.o.relayEnv...)...)
}

// startRelay starts `bin run` with the config at cfgPath, env added to
// relayEnv's.
func (b *bench) startRelay(ctx context.Context, bin relayBinary, name, dir, cfgPath string, env []string, extra ...string) (*proc, error) {
	args := append([]string{"run", "--config", cfgPath}, extra...)
	cmd := exec.CommandContext(ctx, bin.path, args...)
	cmd.Env = append(b.relayEnv(), env...)
	return startProc(name, cmd, filepath.Join(dir, "walrelay.log"))
}

// formatSupported asks `walrelay check` whether the build accepts format;
// the config loader refuses an unsupported one before any connection.
func (b *bench) formatSupported(ctx context.Context, format string) (bool, string) {
	dir := filepath.Join(b.work, "check-"+format)
	cfg, err := b.writeRelayConfig(dir, slotPrefix+"check", backlogPub, "check", format, orderTables(b.o.tables))
	if err != nil {
		return false, err.Error()
	}
	out, _ := exec.CommandContext(ctx, b.relays[0].path, "check", "--config", cfg).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "format:") && strings.Contains(line, format) {
			return false, strings.TrimSpace(line)
		}
	}
	return true, ""
}

// readCheckpoint returns the LSN stored in dataDir/checkpoint.json.
func readCheckpoint(dataDir string) (pglogrepl.LSN, bool) {
	data, err := os.ReadFile(filepath.Join(dataDir, "checkpoint.json"))
	if err != nil {
		return 0, false
	}
	var rec struct {
		LSN string `json:"lsn"`
	}
	if json.Unmarshal(data, &rec) != nil {
		return 0, false
	}
	lsn, err := pglogrepl.ParseLSN(rec.LSN)
	return lsn, err == nil
}

// runRelayBacklog measures walrelay end to end on the backlog from its own
// slot: the pass is done when the stored checkpoint reaches the backlog's
// end LSN (every event acknowledged by Kafka with acks=all and persisted).
// Peak RSS and CPU are read from /proc at that moment, before the stop.
func (b *bench) runRelayBacklog(ctx context.Context, bin relayBinary, slot, format string, profile string) RunResult {
	name := bin.label + " " + format
	dir := filepath.Join(b.work, slot)
	prefix := b.topicPrefix(slot)
	tables := orderTables(b.o.tables)
	topics := topicNames(prefix, tables)
	fail := func(err error) RunResult { return RunResult{Consumer: name, Slot: slot, Error: err.Error()} }
	if err := b.adm.createTopics(ctx, topics...); err != nil {
		return fail(err)
	}
	cfg, err := b.writeRelayConfig(dir, slot, backlogPub, prefix, format, tables)
	if err != nil {
		return fail(err)
	}
	var extra []string
	if profile != "" {
		extra = append(extra, "--cpuprofile", profile)
	}
	p, err := b.startRelay(ctx, bin, name, dir, cfg, nil, extra...)
	if err != nil {
		return fail(err)
	}
	dataDir := filepath.Join(dir, "data")
	r := watch(ctx, watchSpec{
		name: name, slot: slot, rows: b.backlog.Rows, p: p, topics: topics, adm: b.adm,
		timeout: b.o.phaseLimit, localPG: b.svc.localPG, db: b.db, brokerPID: b.svc.brokerPID,
		done: func() (bool, error) {
			lsn, ok := readCheckpoint(dataDir)
			return ok && lsn >= b.backlog.end, nil
		},
		onDone: func(r *RunResult) { readLive(p, r) },
	})
	if err := p.stop(20 * time.Second); err != nil && r.Error == "" {
		r.Error = "stop: " + err.Error()
	}
	n, err := b.adm.countRecordsSettled(ctx, int64(r.Rows), topics...)
	r.TopicRecords = n
	switch {
	case r.Error != "":
	case err != nil:
		r.Error = fmt.Sprintf("counting the records in Kafka after the checkpoint reached the end: %v", err)
	case n < int64(r.Rows):
		r.Error = fmt.Sprintf("only %d of %d records in Kafka after the checkpoint reached the end", n, r.Rows)
	}
	progress("%s (%s): %s", name, slot, r.brief())
	return r
}

// readLive copies a running process's peak RSS and CPU time into r.
func readLive(p *proc, r *RunResult) {
	if st, err := readProcStat(p.pid()); err == nil {
		r.PeakRSSMB, r.CPUSeconds = st.PeakRSSMB, st.CPUSeconds
	}
	if wait, err := runqueueWait(p.pid()); err == nil {
		r.RunqWaitS = wait
	}
}

// topicNames returns <prefix>.<schema>.<table> for each qualified table.
func topicNames(prefix string, tables []string) []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = prefix + "." + t
	}
	return out
}
