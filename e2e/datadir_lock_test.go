package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataDirInUse: a second walrelay started with the same config (so the
// same data_dir, checkpoint and slot) exits non-zero at once, naming the
// running one, and the running one streams on undisturbed.
func TestDataDirInUse(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newTestDB(t, markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, markerTable)
	col := newCollector(t, brokers, cfg.topics()...)
	first := startRelay(t, cfg)
	catchUp(t, cfg, conn, col, col, time.Minute)

	second := spawnRelay(t, cfg)
	code := second.waitExit(30 * time.Second)
	line := errorLine(second.output())
	if code == 0 {
		t.Fatalf("a second walrelay on the same data_dir exited 0")
	}
	want := "in use by walrelay process " + strconv.Itoa(first.cmd.Process.Pid)
	if !strings.Contains(line, want) {
		t.Fatalf("second walrelay's error %q does not say %q", line, want)
	}
	if second.findLog("streaming") != nil {
		t.Fatal("the second walrelay streamed")
	}
	if first.exited() {
		t.Fatal("the first walrelay exited")
	}
	catchUp(t, cfg, conn, col, col, time.Minute)
}
