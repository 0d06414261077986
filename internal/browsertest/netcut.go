package browsertest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Link is a loopback TCP proxy in front of a server that a test can cut
// like a network cable: Cut drops every open connection and refuses new
// ones until Restore. The browser talks to Link's address instead of the
// server's, so a WebSocket really breaks, as it does on a flaky network.
type Link struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewLink proxies a fresh loopback port to target ("host:port"). It stops
// when t ends.
func NewLink(t testing.TB, target string) *Link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("link listen: %v", err)
	}
	l := &Link{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.accept()
	t.Cleanup(func() {
		ln.Close()
		l.Cut()
		l.wg.Wait()
	})
	return l
}

// Addr is the proxy's "host:port".
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Cut closes every proxied connection and refuses new ones.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		c.Close()
	}
	clear(l.conns)
}

// Restore lets connections through again.
func (l *Link) Restore() {
	l.mu.Lock()
	l.cut = false
	l.mu.Unlock()
}

func (l *Link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.wg.Add(1)
		go l.pipe(c)
	}
}

func (l *Link) pipe(client net.Conn) {
	defer l.wg.Done()
	if !l.track(client) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", l.target)
	if err != nil {
		client.Close()
		return
	}
	if !l.track(server) {
		client.Close()
		server.Close()
		return
	}
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go copyHalf(server, client)
	go copyHalf(client, server)
	<-done
	<-done
	l.mu.Lock()
	delete(l.conns, client)
	delete(l.conns, server)
	l.mu.Unlock()
}

func (l *Link) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}
