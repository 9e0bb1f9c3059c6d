package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestPostgresSilentPartition: the path to PostgreSQL goes silent without a
// FIN or RST (a network partition, a host that vanished), so no read or
// write on the replication connection fails for many minutes. walrelay
// asks the server for a reply when it has heard nothing for half of
// postgres.receive_timeout, gives the connection up at the timeout,
// reconnects, ends its own old walsender (the server would keep it, holding
// the slot, for wal_sender_timeout), and every change made meanwhile
// arrives.
func TestPostgresSilentPartition(t *testing.T) {
	t.Parallel()
	dsn, brokers, conn := newPrivateTestDB(t, "CREATE TABLE part (id int PRIMARY KEY, v int);"+markerDDL)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("DSN %q is not a URL (%v)", dsn, err)
	}
	proxy := testenv.StartFreezeProxy(t, u.Host)
	u.Host = proxy.Addr()
	cfg := newRelayConfig(t, u.String(), brokers, "public.part", markerTable)
	cfg.set("postgres.receive_timeout", "4s")
	r := startRelay(t, cfg)
	col := newCollector(t, brokers, cfg.topics()...)
	mustExec(t, conn, "INSERT INTO part SELECT g, 1 FROM generate_series(1, 100) g")
	catchUp(t, cfg, conn, col, col, time.Minute)
	// An idle server sends nothing by itself; it answers the status update
	// that asks for a reply, so an idle connection is not given up.
	time.Sleep(10 * time.Second)
	if n := r.countLog("pipeline halted; restarting from the checkpoint"); n != 0 {
		t.Fatalf("walrelay gave up an idle, healthy connection; log tail:\n%s", cfg.logTail(10))
	}

	proxy.Freeze()
	frozen := time.Now()
	mustExec(t, conn, "INSERT INTO part SELECT g, 2 FROM generate_series(101, 200) g; UPDATE part SET v = 3 WHERE id <= 10")
	halt := r.waitLog("pipeline halted; restarting from the checkpoint", time.Minute)
	if msg := fmt.Sprint(halt["error"]); !strings.Contains(msg, "postgres.receive_timeout") {
		t.Errorf("halt error %q does not name postgres.receive_timeout", msg)
	}
	// The server would keep the old walsender, and so the slot, until its
	// wal_sender_timeout (a minute): walrelay ends it, since it was its own.
	if st := r.waitLog("terminated this walrelay's previous walsender: its connection was lost but it still held the slot",
		time.Minute); st["pid"] == nil {
		t.Errorf("terminated walsender line without a pid: %v", st)
	}
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	t.Logf("caught up %s after the partition began", time.Since(frozen).Round(time.Millisecond))
	if r.exited() {
		t.Fatalf("walrelay exited (%v); it should reconnect", r.state)
	}
	checkLastV(t, lastV(col.recs, cfg.topic("public.part")), 200, func(id int) string {
		switch {
		case id <= 10:
			return "3"
		case id > 100:
			return "2"
		}
		return "1"
	})
}
