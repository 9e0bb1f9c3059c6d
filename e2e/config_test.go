package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"
)

// relayConfig is the configuration and data directory of one relay; the test
// starts processes from it one after another (restarts reuse the slot, the
// data directory and the log file).
type relayConfig struct {
	t           *testing.T
	DSN         string
	Slot        string
	Publication string
	Tables      []string // schema-qualified, e.g. "public.accounts"
	Brokers     []string
	TopicPrefix string
	DataDir     string

	doc     map[string]any // the YAML document, see set
	path    string         // config file, written by start
	logPath string         // stdout and stderr of every process, appended
	starts  int
}

// newRelayConfig returns a configuration for a relay that captures tables of
// the database at dsn into brokers, with a slot and topic prefix unique to t,
// a data directory in t.TempDir(), checkpoint.interval 100ms and
// postgres.status_interval 1s. Its cleanup prints the tail of the relay's log
// when t failed and drops the slot (after the processes' own cleanups, which
// stop them, have run).
func newRelayConfig(t *testing.T, dsn string, brokers []string, tables ...string) *relayConfig {
	t.Helper()
	name := slug(t.Name(), 30) + "_" + randomSuffix()
	dir := t.TempDir()
	c := &relayConfig{
		t: t, DSN: dsn, Slot: "e2e_" + name, Publication: "walrelay",
		Tables: tables, Brokers: brokers,
		TopicPrefix: "e2e-" + strings.ReplaceAll(name, "_", "-"),
		DataDir:     filepath.Join(dir, "data"),
		path:        filepath.Join(dir, "walrelay.yaml"),
		logPath:     filepath.Join(dir, "walrelay.log"),
	}
	c.doc = map[string]any{
		"postgres": map[string]any{
			"dsn": dsn, "slot": c.Slot, "publication": c.Publication,
			"tables": tables, "status_interval": "1s",
		},
		"kafka": map[string]any{
			"brokers": brokers, "topic_partitions": 3, "topic_replication_factor": 1,
		},
		"topic_prefix": c.TopicPrefix,
		"format":       "json",
		"data_dir":     c.DataDir,
		"checkpoint":   map[string]any{"store": "file", "interval": "100ms"},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("walrelay log tail (%s):\n%s", c.logPath, c.logTail(80))
		}
		c.dropSlot()
		c.deleteTopics()
	})
	return c
}

// set sets a dotted key ("limits.max_inflight_events") of the config before
// the next start.
func (c *relayConfig) set(key string, v any) {
	parts := strings.Split(key, ".")
	m := c.doc
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}

// topic returns the Kafka topic of a table ("public.accounts").
func (c *relayConfig) topic(table string) string { return c.TopicPrefix + "." + table }

// topics returns the topics of all captured tables.
func (c *relayConfig) topics() []string {
	out := make([]string, len(c.Tables))
	for i, tb := range c.Tables {
		out[i] = c.topic(tb)
	}
	return out
}

func (c *relayConfig) writeFile() {
	b, err := yaml.Marshal(c.doc)
	if err != nil {
		c.t.Fatalf("marshal config: %v", err)
	}
	if err := os.WriteFile(c.path, b, 0o600); err != nil {
		c.t.Fatalf("write config: %v", err)
	}
}

// checkpoint reads the stored checkpoint (<data_dir>/checkpoint.json). ok is
// false when the file does not exist yet; err reports a file that exists but
// does not hold a valid checkpoint for this slot.
func (c *relayConfig) checkpoint() (lsn pglogrepl.LSN, ok bool, err error) {
	if cp, _ := c.doc["checkpoint"].(map[string]any); cp["store"] == "postgres" {
		return c.pgCheckpoint()
	}
	b, err := os.ReadFile(filepath.Join(c.DataDir, "checkpoint.json"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var cp struct {
		LSN  string `json:"lsn"`
		Slot string `json:"slot"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		return 0, false, fmt.Errorf("checkpoint.json %q: %w", b, err)
	}
	if cp.Slot != c.Slot {
		return 0, false, fmt.Errorf("checkpoint.json %q: slot %q, want %q", b, cp.Slot, c.Slot)
	}
	lsn, err = pglogrepl.ParseLSN(cp.LSN)
	if err != nil {
		return 0, false, fmt.Errorf("checkpoint.json %q: %w", b, err)
	}
	return lsn, true, nil
}

// pgCheckpoint reads the checkpoint of checkpoint.store: postgres.
func (c *relayConfig) pgCheckpoint() (lsn pglogrepl.LSN, ok bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		return 0, false, err
	}
	defer conn.Close(ctx)
	var text string
	err = conn.QueryRow(ctx, "SELECT lsn::text FROM walrelay.checkpoint WHERE slot = $1", c.Slot).Scan(&text)
	var pe *pgconn.PgError
	if errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pe) && pe.Code == "42P01" { // no row, no table yet
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	lsn, err = pglogrepl.ParseLSN(text)
	return lsn, err == nil, err
}

// mustCheckpoint is checkpoint that fails the test on a missing or invalid file.
func (c *relayConfig) mustCheckpoint() pglogrepl.LSN {
	c.t.Helper()
	lsn, ok, err := c.checkpoint()
	if err != nil {
		c.t.Fatalf("read checkpoint: %v", err)
	}
	if !ok {
		c.t.Fatalf("no checkpoint.json in %s", c.DataDir)
	}
	return lsn
}

// waitCheckpointBeyond waits until the stored checkpoint is > lsn.
func (c *relayConfig) waitCheckpointBeyond(lsn pglogrepl.LSN, timeout time.Duration) pglogrepl.LSN {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		cp, ok, err := c.checkpoint()
		if err != nil {
			c.t.Fatalf("read checkpoint: %v", err)
		}
		if ok && cp > lsn {
			return cp
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("checkpoint still %s (exists %v) after %s, want > %s", cp, ok, timeout, lsn)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logTail returns the last n lines of the relay's log.
func (c *relayConfig) logTail(n int) string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dropSlot drops the relay's replication slot once no process uses it, so
// the database can be dropped and the server does not keep WAL for it.
func (c *relayConfig) dropSlot() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		c.t.Logf("drop slot %s: %v", c.Slot, err)
		return
	}
	defer conn.Close(ctx)
	for {
		_, err = conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name)
			FROM pg_replication_slots WHERE slot_name = $1`, c.Slot)
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond) // still active: the walsender is exiting
	}
	if err != nil {
		c.t.Logf("drop slot %s: %v", c.Slot, err)
	}
}

// deleteTopics deletes the topics with the relay's prefix, so a shared broker
// does not keep a test's records (best effort).
func (c *relayConfig) deleteTopics() {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	td, err := adm.ListTopics(ctx)
	if err != nil {
		c.t.Logf("delete topics %s.*: %v", c.TopicPrefix, err)
		return
	}
	var mine []string
	for name := range td {
		if strings.HasPrefix(name, c.TopicPrefix+".") {
			mine = append(mine, name)
		}
	}
	if len(mine) == 0 {
		return
	}
	if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
		c.t.Logf("delete topics %v: %v", mine, err)
	}
}

// slug turns a test name into at most max characters of [a-z0-9_].
func slug(name string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if b.Len() >= max {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
