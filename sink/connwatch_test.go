package sink

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/walrelay/walrelay/internal/testenv"
)

// stallProxy forwards connections to target until frozen; after that it
// accepts connections and never answers them, like a SIGSTOPped broker
// (the kernel still completes the TCP handshake). target "" is frozen from
// the start.
type stallProxy struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	p.frozen.Store(target == "")
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c)
		if p.frozen.Load() {
			continue // held open, never read nor answered
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.track(up)
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *stallProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *stallProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// frozenConfig is fastConfig for addr with a one-second request timeout.
func frozenConfig(addr string) Config {
	cfg := fastConfig([]string{addr})
	cfg.RequestTimeout = time.Second
	return cfg
}

// TestFrozenBrokerAtStart: a broker that accepts the connection and never
// answers is reported as slow or paused first, TLS and SASL only as the
// other possibility, by New and by Check alike.
func TestFrozenBrokerAtStart(t *testing.T) {
	t.Parallel()
	p := newStallProxy(t, "")
	cfg := frozenConfig(p.addr())
	_, err := New(context.Background(), cfg, zerolog.Nop())
	const want = "the broker accepted the connection but did not answer within 1s: it may be overloaded or paused, or the listener speaks another protocol: is the listener TLS?"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New: %v\nwant it to say %q", err, want)
	}
	res := Check(context.Background(), cfg, "probe")
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Fix, "accepted the connection but did not answer within 1s") {
		t.Errorf("Check: %+v", res)
	}
}

// TestFrozenBrokerAfterItWorked: at a pipeline restart (a new sink in the
// same process, same settings) a frozen broker is not blamed on the TLS or
// SASL settings that just worked.
func TestFrozenBrokerAfterItWorked(t *testing.T) {
	t.Parallel()
	c := newFake(t)
	p := newStallProxy(t, c.ListenAddrs()[0])
	cfg := frozenConfig(p.addr())
	s, err := New(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close(context.Background())
	p.frozen.Store(true)
	_, err = New(context.Background(), cfg, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 1s: it may be overloaded or paused; these kafka.brokers, kafka.tls and kafka.sasl settings worked earlier in this process") ||
		strings.Contains(err.Error(), "kafka.tls.enabled") || strings.Contains(err.Error(), "set kafka.sasl") {
		t.Errorf("New after the broker froze: %v", err)
	}
}

// TestRecreatedTopicWarns: a topic deleted while walrelay runs is created
// again by the next sink of the process (the pipeline's restart), with a
// warning naming it and telling that consumers' offsets restart.
func TestRecreatedTopicWarns(t *testing.T) {
	t.Parallel()
	c := newFake(t)
	cfg := fastConfig(c.ListenAddrs())
	send := func(i int, buf *testenv.SyncBuffer) {
		t.Helper()
		s := startSinkWith(t, cfg, zerolog.New(buf))
		a := newAcks(1)
		if err := s.Send(context.Background(), testRecord("recreated", 0, i, a)); err != nil {
			t.Fatal(err)
		}
		a.wait(t, 10*time.Second)
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var first, second testenv.SyncBuffer
	send(0, &first)
	if !strings.Contains(first.String(), "kafka: created topic") || strings.Contains(first.String(), `"level":"warn"`) {
		t.Fatalf("first creation; log:\n%s", first.String())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).DeleteTopics(context.Background(), "recreated"); err != nil {
		t.Fatal(err)
	}
	send(1, &second)
	var warned bool
	for _, line := range strings.Split(second.String(), "\n") {
		warned = warned || strings.Contains(line, `"level":"warn"`) && strings.Contains(line, `re-created topic \"recreated\"`) &&
			strings.Contains(line, "consumers' offsets on it restart")
	}
	if !warned {
		t.Errorf("no warning about the re-created topic; log:\n%s", second.String())
	}
}
