package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// FreezeProxy forwards TCP connections to a target. freeze makes every
// connection open at that moment go silent in both directions without
// closing it, as a network partition or a vanished host does (no FIN, no
// RST); connections accepted afterwards forward normally.
type FreezeProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []*proxiedConn
}

type proxiedConn struct {
	frozen chan struct{} // closed by freeze
	once   sync.Once
}

// StartFreezeProxy listens on a free local port and forwards to target
// until the test ends.
func StartFreezeProxy(t testing.TB, target string) *FreezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FreezeProxy{ln: ln, target: target}
	var open []net.Conn
	var openMu sync.Mutex
	t.Cleanup(func() {
		_ = ln.Close()
		openMu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		openMu.Unlock()
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			openMu.Lock()
			open = append(open, in, out)
			openMu.Unlock()
			pc := &proxiedConn{frozen: make(chan struct{})}
			p.mu.Lock()
			p.conns = append(p.conns, pc)
			p.mu.Unlock()
			go pc.pipe(in, out)
			go pc.pipe(out, in)
		}
	}()
	return p
}

// Addr is the proxy's host:port.
func (p *FreezeProxy) Addr() string { return p.ln.Addr().String() }

// Freeze silences every connection open now.
func (p *FreezeProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.once.Do(func() { close(c.frozen) })
	}
}

// pipe copies src to dst until either fails or the connection is frozen;
// a frozen connection's bytes are read and dropped, so neither end sees
// an error or a close.
func (c *proxiedConn) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		select {
		case <-c.frozen:
			if err != nil {
				return
			}
			continue
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
