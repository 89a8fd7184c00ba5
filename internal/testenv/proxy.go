package testenv

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP to a server and can refuse service, to play an outage
// of a shared server (ClickHouse) without stopping it for other tests.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	up     bool
	conns  map[net.Conn]struct{}
	// stalled is closed while traffic flows; while stalled, it is open.
	stalled chan struct{}
}

func StartProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, up: true, conns: map[net.Conn]struct{}{}, stalled: closedChan()}
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.SetUp(false)
		p.Stall(false)
	})
	return p
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// Stall(true) plays a server that stops answering without closing
// anything: connections stay open (new ones are accepted) but no byte is
// forwarded either way until Stall(false).
func (p *Proxy) Stall(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stalled: // flowing
		if on {
			p.stalled = make(chan struct{})
		}
	default:
		if !on {
			close(p.stalled)
		}
	}
}

// flowing returns a channel that is closed once traffic may flow.
func (p *Proxy) flowing() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// copy forwards src to dst, holding each chunk while the proxy is stalled.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.flowing()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetUp(false) also cuts every open connection, as a server crash would.
func (p *Proxy) SetUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for c := range p.conns {
			_ = c.Close()
		}
		clear(p.conns)
	}
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	if !p.track(c) {
		return
	}
	<-p.flowing()
	s, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(s) {
		_ = c.Close()
		return
	}
	go func() { p.copy(s, c); _ = s.Close() }()
	p.copy(c, s)
	_ = c.Close()
}

// track registers c for cutting, or closes it when the proxy is down.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.up {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}
