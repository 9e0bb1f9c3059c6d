package e2e

import (
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cutProxy forwards TCP connections to target until cut: then it closes
// every open connection and each new one at once, as a registry that went
// down; mend forwards again.
type cutProxy struct {
	ln   net.Listener
	down atomic.Bool
	mu   sync.Mutex
	open []net.Conn
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.open = append(p.open, in, out)
			p.mu.Unlock()
			go func() { _, _ = out.(*net.TCPConn).ReadFrom(in); out.Close() }()
			go func() { _, _ = in.(*net.TCPConn).ReadFrom(out); in.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.open {
		c.Close()
	}
	p.open = nil
}

func (p *cutProxy) mend() { p.down.Store(false) }

// TestRegistryOutageKnownSchemas is the audit's finding: with the external
// registry down, a session restarted after a halt encodes the rows of a
// table whose schemas the process already registered (no DDL) without the
// registry; only the table the process has not seen yet halts, each time.
// When the registry is back both rows arrive, the known table's with the
// schema ID it had.
func TestRegistryOutageKnownSchemas(t *testing.T) {
	t.Parallel()
	regURL := externalRegistry(t)
	u, err := url.Parse(regURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	viaProxy := *u
	viaProxy.Host = proxy.ln.Addr().String()
	dsn, brokers, conn := newTestDB(t, "CREATE TABLE rega (id int PRIMARY KEY, v text);"+
		"CREATE TABLE regb (id int PRIMARY KEY, w text);"+markerDDL)
	cfg := newRelayConfig(t, dsn, brokers, "public.rega", "public.regb", markerTable)
	cfg.set("format", "avro")
	cfg.set("schema_registry.url", viaProxy.String())
	col := newAvroCollector(t, brokers, regURL, cfg.topics()...)
	relay := startRelay(t, cfg)
	mustExec(t, conn, "INSERT INTO rega VALUES (1, 'before')")
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	topicA, topicB := cfg.topic("public.rega"), cfg.topic("public.regb")
	before := col.byTopic(topicA)
	if len(before) != 1 {
		t.Fatalf("%d records on %s, want 1", len(before), topicA)
	}

	const halted = "pipeline halted; restarting from the checkpoint"
	n0 := len(relay.logLines(halted))
	proxy.cut()
	// rega's row first: the first session encodes it, halts on regb's (a
	// table new to the process); every later session replays both.
	mustExec(t, conn, "BEGIN; INSERT INTO rega VALUES (2, 'during'); INSERT INTO regb VALUES (1, 'new'); COMMIT")
	for n := n0 + 1; n <= n0+3; n++ {
		msg, _ := relay.waitLogCount(halted, n, time.Minute)["error"].(string)
		if !strings.Contains(msg, topicB+"-") || strings.Contains(msg, "public.rega") {
			t.Errorf("halt %d with the registry down: %s\nwant it on %s only", n-n0, msg, topicB)
		}
	}
	proxy.mend()
	catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
	// A halted transaction's published rows are published again by the
	// session that replays it (at least once): count rows by key.
	a, b := col.byTopic(topicA), col.byTopic(topicB)
	keys := map[string]bool{}
	for _, r := range a {
		keys[r.Key] = true
		if r.KeyID != before[0].KeyID || r.ValueID != before[0].ValueID {
			t.Errorf("rega %s: schema IDs %d/%d, want %d/%d as before the outage", r.Key, r.KeyID, r.ValueID, before[0].KeyID, before[0].ValueID)
		}
	}
	if len(keys) != 2 || len(b) == 0 || a[len(a)-1].ValueMap["after"].(map[string]any)["v"] != "during" {
		t.Errorf("after the outage: rows %v on %s, %d records on %s; want id=1 and id=2 (v during), and regb's row",
			keys, topicA, len(b), topicB)
	}
}
