package sink

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// connWatch records how far the connections of one client to the brokers
// got, so that a failed first request can be explained (connectHint): a
// broker that accepted the connection and never sent a byte is more likely
// slow or paused than misconfigured, and one that completed the TLS
// handshake (or answered a plaintext request) and then closed the
// connection most likely requires SASL. One watch serves every connection
// of a client; safe for concurrent use.
type connWatch struct {
	accepted atomic.Bool // a TCP connection was established
	heard    atomic.Bool // a broker sent a byte (TLS handshake included)
	tlsDone  atomic.Bool // a TLS handshake completed
	answered atomic.Bool // a broker sent a byte of Kafka protocol (after TLS)

	conns connCount // the connections set up, and those open now
}

// connCount counts the connections of one client that completed their
// setup (TCP, and TLS when configured): every one dialled, those still
// open, and the most open at once. Safe for concurrent use.
type connCount struct {
	dialled, open, peak atomic.Int64
}

// opened counts a connection that completed its setup.
func (c *connCount) opened() {
	c.dialled.Add(1)
	n := c.open.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// connSeen is what the connections of a failed first request saw, and what
// connectHint needs besides the error.
type connSeen struct {
	accepted, heard, tlsDone, answered bool
	// wait is how long the broker had to answer the connection setup.
	wait time.Duration
	// worked is set when New reached the same brokers with the same kafka.tls
	// and kafka.sasl settings earlier in this process (settingsWorked).
	worked bool
}

// seen returns a snapshot of w for connectHint.
func (w *connWatch) seen(wait time.Duration, worked bool) connSeen {
	return connSeen{accepted: w.accepted.Load(), heard: w.heard.Load(), tlsDone: w.tlsDone.Load(),
		answered: w.answered.Load(), wait: wait, worked: worked}
}

// dialer returns the dial function of kafka-go's Transport and franz-go's
// client: it dials TCP within timeout and, with tc, runs the TLS handshake
// itself (ServerName defaulting to the host dialed, as both libraries do),
// bounded by timeout and ctx, so that its completion is known. What the
// connections see is recorded on w.
func (w *connWatch) dialer(tc *tls.Config, timeout time.Duration) func(context.Context, string, string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w.accepted.Store(true)
		if tc == nil {
			w.conns.opened()
			return &watchedConn{Conn: raw, marks: []*atomic.Bool{&w.heard, &w.answered}, count: &w.conns}, nil
		}
		c := tc
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				raw.Close()
				return nil, fmt.Errorf("dialing %s: %w", addr, err)
			}
			c = tc.Clone()
			c.ServerName = host
		}
		conn := tls.Client(&watchedConn{Conn: raw, marks: []*atomic.Bool{&w.heard}}, c)
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := conn.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, err
		}
		w.tlsDone.Store(true)
		w.conns.opened()
		return &watchedConn{Conn: conn, marks: []*atomic.Bool{&w.answered}, count: &w.conns}, nil
	}
}

// watchedConn sets marks at its first Read that returns bytes, and, when
// count is set, takes itself off count's open connections at its first Close.
type watchedConn struct {
	net.Conn
	marks  []*atomic.Bool
	done   atomic.Bool
	count  *connCount
	closed atomic.Bool
}

func (c *watchedConn) Close() error {
	if c.count != nil && c.closed.CompareAndSwap(false, true) {
		c.count.open.Add(-1)
	}
	return c.Conn.Close()
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.done.Load() {
		c.done.Store(true)
		for _, m := range c.marks {
			m.Store(true)
		}
	}
	return n, err
}

// worked holds the settingsKey of every config whose brokers answered New's
// first request in this process. When the same settings fail later (a
// pipeline restart after the broker froze), the fix is the broker, not them.
var worked sync.Map

// settingsKey identifies cfg's brokers and the kafka.tls and kafka.sasl
// settings a connection depends on (never the password).
func settingsKey(cfg *Config) string {
	tlsKey := "plaintext"
	if cfg.TLS != nil {
		tlsKey = fmt.Sprintf("tls(certs=%d,ca=%t,server=%q,skip=%t)", len(cfg.TLS.Certificates),
			cfg.TLS.RootCAs != nil, cfg.TLS.ServerName, cfg.TLS.InsecureSkipVerify)
	}
	return fmt.Sprintf("%q %s sasl=%s/%q", cfg.Brokers, tlsKey, cfg.SASL.Mechanism, cfg.SASL.Username)
}

// settingsWorked reports whether New reached cfg's brokers with cfg's
// settings earlier in this process.
func settingsWorked(cfg *Config) bool {
	_, ok := worked.Load(settingsKey(cfg))
	return ok
}

// noteSettingsWorked records that New reached cfg's brokers.
func noteSettingsWorked(cfg *Config) { worked.Store(settingsKey(cfg), true) }
