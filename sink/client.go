package sink

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
)

// cluster holds the kafka.Client that every partition writer shares, and
// replaces it when routing metadata may be stale.
//
// Why: kafka-go's Transport routes a produce request to the partition leader
// found in its cached metadata, and answers Metadata requests from that cache.
// It refreshes the cache only every MetadataTTL (random, up to 6s) and after
// CreateTopics created a topic — not when a broker answers
// NOT_LEADER_OR_FOLLOWER or a connection fails. So a request that fails with a
// retriable error is released with refresh=true, which swaps in a fresh
// Transport: its first request fetches current metadata, and the retry goes to
// the new leader. The old Transport is closed once its last request returned.
//
// Every request holds one of the slots while it runs (acquire to release),
// so a Transport's connections to one broker (it reuses an idle one before
// it dials) never outnumber Config.MaxInFlightRequests, plus its metadata
// connection. While retriable failures replace the Transport in quick
// succession, the retired ones still in use add theirs: about twice as many
// at worst, for a moment.
type cluster struct {
	addr     net.Addr
	clientID string
	timeout  time.Duration
	tls      *tls.Config    // nil = plaintext
	sasl     sasl.Mechanism // nil = no SASL
	watch    connWatch      // what the connections saw, for New's error
	slots    inflight       // one per request in flight (Config.MaxInFlightRequests)

	mu  sync.Mutex
	cur *clientRef
}

// clientRef is one generation of client; users counts requests using it.
type clientRef struct {
	client    *kafka.Client
	transport *kafka.Transport
	users     int
	retired   bool
}

// newCluster returns the cluster of cfg's brokers (cfg validated), whose
// connections use cfg.TLS and mech (nil: no SASL).
func newCluster(cfg *Config, mech sasl.Mechanism) *cluster {
	c := &cluster{addr: kafka.TCP(cfg.Brokers...), clientID: cfg.ClientID, timeout: cfg.RequestTimeout,
		tls: cfg.TLS, sasl: mech, slots: newInflight(cfg.MaxInFlightRequests)}
	c.cur = c.newClient()
	return c
}

// newClient builds a client on a fresh Transport. The dial timeout also
// bounds a connection's setup (TLS handshake, ApiVersions, SASL exchange), so
// a listener that does not speak the configured protocol fails within it.
// The dialer runs the TLS handshake (connWatch.dialer), so the Transport's
// own TLS stays off.
func (c *cluster) newClient() *clientRef {
	t := &kafka.Transport{
		Dial:        c.watch.dialer(c.tls, c.setupTimeout()),
		DialTimeout: c.setupTimeout(),
		ClientID:    c.clientID,
		SASL:        c.sasl,
	}
	return &clientRef{client: &kafka.Client{Addr: c.addr, Timeout: c.timeout, Transport: t}, transport: t}
}

// setupTimeout bounds the dial and setup of one connection.
func (c *cluster) setupTimeout() time.Duration { return min(5*time.Second, c.timeout) }

// acquire waits for a free request slot (Config.MaxInFlightRequests) and
// returns the current client for one request; the caller must release it,
// and must not acquire again before (the slot would be held while waiting
// for another). The wait is bounded by ctx only: start the request's
// timeout after acquire returned. It fails with ctx's error if ctx ended
// first. Safe for concurrent use.
func (c *cluster) acquire(ctx context.Context) (*clientRef, error) {
	if err := c.slots.acquire(ctx); err != nil {
		return nil, err
	}
	return c.use(), nil
}

// use returns the current client, counted as in use until done.
func (c *cluster) use() *clientRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur.users++
	return c.cur
}

// release ends a request on r and frees its slot. With refresh set (the
// request failed in a way stale metadata may explain) r is retired and
// replaced, unless another request already replaced it, so that writers
// failing together refresh once.
func (c *cluster) release(r *clientRef, refresh bool) {
	c.done(r, refresh)
	c.slots.release()
}

// done ends a use of r, as release does without the slot.
func (c *cluster) done(r *clientRef, refresh bool) {
	c.mu.Lock()
	r.users--
	if refresh && r == c.cur {
		r.retired = true
		c.cur = c.newClient()
	}
	closeIt := r.retired && r.users == 0
	c.mu.Unlock()
	if closeIt {
		r.transport.CloseIdleConnections()
	}
}

// refresh retires the current client, so that the next request fetches
// current metadata (after a topic grew: the cached metadata does not know
// its new partitions). It sends no request, so it takes no slot. Safe for
// concurrent use.
func (c *cluster) refresh() {
	c.done(c.use(), true)
}

// close retires the current client; it is closed once unused.
func (c *cluster) close() {
	c.mu.Lock()
	r := c.cur
	r.retired = true
	closeIt := r.users == 0
	c.mu.Unlock()
	if closeIt {
		r.transport.CloseIdleConnections()
	}
}
