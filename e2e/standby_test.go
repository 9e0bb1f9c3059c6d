package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/walrelay/walrelay/internal/testenv"
)

// twin returns a config identical to c (slot, publication, topics, store)
// but with its own data directory, config file and log: a second walrelay
// on another machine.
func (c *relayConfig) twin(t *testing.T) *relayConfig {
	t.Helper()
	b, err := yaml.Marshal(c.doc)
	if err != nil {
		t.Fatal(err)
	}
	tw := *c
	tw.doc = nil
	if err := yaml.Unmarshal(b, &tw.doc); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tw.DataDir, tw.path, tw.logPath, tw.starts = filepath.Join(dir, "data"), filepath.Join(dir, "walrelay.yaml"),
		filepath.Join(dir, "walrelay.log"), 0
	tw.set("data_dir", tw.DataDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("twin walrelay log tail (%s):\n%s", tw.logPath, tw.logTail(60))
		}
	})
	return &tw
}

// TestStandbyTakeover: two walrelays with the same config, the postgres
// checkpoint store and postgres.standby. The second waits (it neither exits
// nor reports failures) while the first streams; when the first is
// SIGKILLed while a writer changes rows, the second takes over from the
// shared checkpoint; then the first comes back as the standby and takes
// over again when the second is stopped with SIGTERM. Every row is in Kafka
// with its current value, and each key's events are in commit order with no
// change missing (replays after a takeover are dropped by event ID, as a
// consumer does).
func TestStandbyTakeover(t *testing.T) {
	t.Parallel()
	const rows = 2000
	dsn, brokers, conn := newTestDB(t, fmt.Sprintf(catchupDDL, rows))
	cfg := newRelayConfig(t, dsn, brokers, "public.cu_b", markerTable)
	cfg.set("checkpoint.store", "postgres")
	cfg.set("postgres.standby", true)
	col := newCollector(t, brokers, cfg.topics()...)
	a := startRelay(t, cfg)
	cfgB := cfg.twin(t)
	addrB := testenv.FreeAddr(t)
	cfgB.set("metrics.listen", addrB)
	metricsB := "http://" + addrB + "/metrics"
	b := spawnRelay(t, cfgB)
	b.waitLog("standby: waiting for the replication slot; this walrelay takes over when it is released", time.Minute)
	if m := scrape(t, metricsB); m["walrelay_standby_waiting"] != 1 || m["walrelay_streaming"] != 0 {
		t.Errorf("waiting standby: walrelay_standby_waiting %v, walrelay_streaming %v; want 1, 0",
			m["walrelay_standby_waiting"], m["walrelay_streaming"])
	}

	w := startCatchupWriter(t, dsn, rows, catchupHot)
	catchUp(t, cfg, conn, col, col, time.Minute)
	if b.findLog("streaming") != nil {
		t.Fatal("the standby streams while the active walrelay holds the slot")
	}
	a.kill()
	took := time.Now()
	b.waitLog("streaming", time.Minute)
	t.Logf("the standby streamed %s after the SIGKILL", time.Since(took).Round(time.Millisecond))
	if m := scrape(t, metricsB); m["walrelay_standby_waiting"] != 0 || m["walrelay_streaming"] != 1 {
		t.Errorf("after the takeover: walrelay_standby_waiting %v, walrelay_streaming %v; want 0, 1",
			m["walrelay_standby_waiting"], m["walrelay_streaming"])
	}
	catchUp(t, cfg, conn, col, col, time.Minute)

	// A rolling restart: the first walrelay comes back as the standby, and
	// takes over when the second stops gracefully (its last checkpoint is
	// saved before the slot is released, and loaded after it is).
	a = spawnRelay(t, cfg)
	a.waitLog("standby: waiting for the replication slot; this walrelay takes over when it is released", time.Minute)
	if code, _ := b.term(); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	a.waitLog("streaming", time.Minute)
	w.finish(t, time.Second)
	catchUp(t, cfg, conn, col, col, time.Minute)
	checkCatchup(t, conn, col, cfg.topic("public.cu_b"), 1, rows)
	for name, r := range map[string]*relay{"second": b, "first (restarted)": a} {
		if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
			t.Errorf("the %s walrelay reported %d failures while it waited", name, n)
		}
	}
	if code, _ := a.term(); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}
