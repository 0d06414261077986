package natsbus_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/bus/bustest"
	"github.com/switchboard-chat/switchboard/internal/bus/natsbus"
	"github.com/switchboard-chat/switchboard/internal/bus/natsbus/natstest"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

func open(t *testing.T, u, node string, log *slog.Logger) *natsbus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsbus.Open(ctx, u, node, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSuite(t *testing.T) {
	u := natstest.URL(t)
	bustest.Run(t, func(t *testing.T) (bus.Bus, bus.Bus) {
		return open(t, u, "a-"+chat.NewID(), quiet()), open(t, u, "b-"+chat.NewID(), quiet())
	})
}

// Every event says which node published it, whatever the publisher set.
func TestNodeStamp(t *testing.T) {
	u := natstest.URL(t)
	a := open(t, u, "a-"+chat.NewID(), quiet())
	b := open(t, u, "b-"+chat.NewID(), quiet())
	app := chat.NewID()
	got := make(chan bus.Event, 4)
	for _, n := range []bus.Bus{a, b} {
		defer n.Subscribe(func(e bus.Event) {
			if e.AppID == app {
				got <- e
			}
		})()
	}
	if err := a.Publish(context.Background(), bus.Event{Type: bus.TypeInbox, AppID: app, Node: "spoofed"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case e := <-got:
			if !strings.HasPrefix(e.Node, "a-") {
				t.Fatalf("event node = %q, want node a's id", e.Node)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("event not delivered")
		}
	}

	for _, bad := range []string{"", "a.b", "a*", ">", "a b"} {
		if err := a.Publish(context.Background(), bus.Event{Type: bus.TypeInbox, AppID: bad}); err == nil {
			t.Errorf("app id %q: publish succeeded", bad)
		}
	}
}

func TestOpenFailsFast(t *testing.T) {
	// Port 1 refuses at once: a node with a wrong URL must not start.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := natsbus.Open(ctx, "nats://127.0.0.1:1", "n", quiet()); err == nil {
		t.Fatal("open succeeded")
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("open took %v to fail", d)
	}
}

// TestReconnect cuts node a's connection (through a TCP proxy the test
// controls), keeps it down long enough for reconnect attempts to fail, then
// restores it: a must reconnect by itself and deliver again, both ways.
func TestReconnect(t *testing.T) {
	direct := natstest.URL(t)
	target, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, target.Host)
	viaProxy := *target
	viaProxy.Host = p.addr

	logs := &syncBuffer{}
	a := open(t, viaProxy.String(), "a-"+chat.NewID(), slog.New(slog.NewTextHandler(logs, nil)))
	b := open(t, direct, "b-"+chat.NewID(), quiet())
	app := chat.NewID()
	atA, atB := make(chan bus.Event, 1024), make(chan bus.Event, 1024)
	defer a.Subscribe(func(e bus.Event) {
		if e.AppID == app {
			atA <- e
		}
	})()
	defer b.Subscribe(func(e bus.Event) {
		if e.AppID == app && strings.HasPrefix(e.Node, "a-") {
			atB <- e
		}
	})()

	// deliver publishes on from until ch receives, since events sent while
	// the subscription is still being re-registered may be lost (core NATS
	// is at-most-once; the store covers that in production).
	deliver := func(what string, from bus.Bus, ch <-chan bus.Event) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for seq := int64(1); ; seq++ {
			if time.Now().After(deadline) {
				t.Fatalf("%s: nothing delivered in 15s; logs:\n%s", what, logs.String())
			}
			_ = from.Publish(context.Background(), bus.Event{Type: bus.TypeInbox, AppID: app, Seq: seq})
			select {
			case <-ch:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	deliver("before the cut, b to a", b, atA)

	p.cut()
	waitLog(t, logs, "nats disconnected")
	time.Sleep(500 * time.Millisecond) // let a few reconnect attempts fail
	p.restore(t)
	waitLog(t, logs, "nats reconnected")

	drain(atA)
	drain(atB)
	deliver("after reconnecting, b to a", b, atA)
	deliver("after reconnecting, a to b", a, atB)
}

func drain(ch <-chan bus.Event) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs after 15s:\n%s", want, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proxy forwards TCP connections to target until cut, which closes the
// listener and every connection, as a network failure or a server restart
// would; restore listens again on the same address.
type proxy struct {
	target string
	addr   string
	wg     sync.WaitGroup

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by cut
			}
			up, err := net.DialTimeout("tcp", p.target, 3*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					_, _ = io.Copy(pair[0], pair[1])
					pair[0].Close()
					pair[1].Close()
				}()
			}
		}
	}()
}

// track records a connection pair, or closes it when the proxy was cut
// meanwhile.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) restore(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(ln)
			return
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
