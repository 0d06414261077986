package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// room is one conversation and the credential a widget would join it with.
type room struct {
	id    string
	token string // contact token; empty means "use the API key"
}

// target is a server under load: Switchboard nodes or the bare baseline.
type target interface {
	name() string
	nodes() int
	// prepare creates n conversations.
	prepare(ctx context.Context, n int, run string) ([]room, error)
	// dial opens connection number i, authenticated for r, to a node.
	dial(ctx context.Context, node, i int, r room) (*websocket.Conn, error)
	// metricsURL is node i's Prometheus endpoint, "" when there is none.
	metricsURL(node int) string
}

var dialer = &websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	// Small buffers and a shared write-buffer pool keep the client's own
	// footprint low when it holds 10,000 idle connections.
	ReadBufferSize:  2048,
	WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{},
}

// sources spreads connections over loopback source addresses.
//
// A node caps connections per client address (256 by default), as it
// should against abuse, while a load generator on one machine would
// otherwise present every connection from 127.0.0.1. Real widgets come from
// many addresses, and on Linux every 127.0.0.0/8 address is local, so
// connection i comes from its own small group's address: the server does
// the same work and its limit stays in force. It also gives each group its
// own ephemeral-port range.
type sources struct {
	perIP int // 0: the system's choice of source address
}

func (s sources) addr(i int) net.IP {
	if s.perIP <= 0 {
		return nil
	}
	k := i / s.perIP
	return net.IPv4(127, 1, byte(k/250), byte(k%250+1))
}

func (s sources) dial(ctx context.Context, u string, h http.Header, i int) (*websocket.Conn, *http.Response, error) {
	src := s.addr(i)
	if src == nil {
		return dialer.DialContext(ctx, u, h)
	}
	d := *dialer
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: dialer.HandshakeTimeout}
	d.NetDialContext = nd.DialContext
	return d.DialContext(ctx, u, h)
}

// loopbackOnly reports whether every URL names a loopback host, where
// spreading source addresses is possible.
func loopbackOnly(urls []string) bool {
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil {
			return false
		}
		h := p.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return true
}

// switchboard is one or more Switchboard nodes sharing a database.
type switchboard struct {
	base   []string // http(s)://host:port
	apiKey string
	http   *http.Client
	src    sources
}

func newSwitchboard(urls []string, apiKey string, src sources) (*switchboard, error) {
	s := &switchboard{apiKey: apiKey, http: &http.Client{Timeout: 15 * time.Second}, src: src}
	for _, u := range urls {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("-url %q: want an http:// or https:// base URL of a node", u)
		}
		s.base = append(s.base, u)
	}
	if len(s.base) == 0 {
		return nil, errors.New("-url: at least one node is needed")
	}
	if apiKey == "" {
		return nil, errors.New("-api-key is required (e.g. the node's SWITCHBOARD_BOOTSTRAP_API_KEY)")
	}
	return s, nil
}

func (s *switchboard) name() string { return "switchboard" }
func (s *switchboard) nodes() int   { return len(s.base) }

func (s *switchboard) metricsURL(i int) string { return s.base[i] + "/metrics" }

// prepare creates the conversations on the first node, a few at a time (the
// store batches concurrent writes), and a contact token for each one's
// contact, as the widget would get.
func (s *switchboard) prepare(ctx context.Context, n int, run string) ([]room, error) {
	rooms := make([]room, n)
	err := forEach(ctx, n, 8, func(ctx context.Context, i int) (err error) {
		rooms[i], err = s.createRoom(ctx, run, i)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rooms, nil
}

func (s *switchboard) createRoom(ctx context.Context, run string, i int) (room, error) {
	var conv struct {
		ID        string `json:"id"`
		ContactID string `json:"contactId"`
	}
	// skipRouting leaves the conversation with no assignee. Routing would
	// give it to the app's default bot (the demo bot on a fresh SQLite
	// node), whose turn for every message would be measured as well, on
	// one setup and not the other; bot turns are what bench e2e measures.
	body := map[string]any{"contact": map[string]any{"userId": "bench-" + run + "-" + strconv.Itoa(i)}, "skipRouting": true}
	if err := s.call(ctx, "POST", "/api/v1/conversations", body, &conv); err != nil {
		return room{}, fmt.Errorf("creating a conversation: %w", err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := s.call(ctx, "POST", "/api/v1/contacts/"+url.PathEscape(conv.ContactID)+"/token", nil, &tok); err != nil {
		return room{}, fmt.Errorf("issuing a contact token: %w", err)
	}
	return room{id: conv.ID, token: tok.Token}, nil
}

func (s *switchboard) call(ctx context.Context, method, path string, body, out any) error {
	_, err := doJSON(ctx, s.http, method, s.base[0], path, bearer(s.apiKey), body, out)
	return err
}

func (s *switchboard) dial(ctx context.Context, node, i int, r room) (*websocket.Conn, error) {
	u := wsURL(s.base[node]) + "/ws"
	h := http.Header{}
	if r.token != "" {
		u += "?token=" + url.QueryEscape(r.token)
	} else {
		h.Set("Authorization", "Bearer "+s.apiKey)
	}
	c, resp, err := s.src.dial(ctx, u, h, i)
	if err != nil {
		return nil, dialError(s.base[node]+"/ws", resp, err)
	}
	return c, nil
}

func wsURL(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(base, "http://")
}

// RefusedError is a WebSocket upgrade the server answered with an HTTP
// error. Hint says what to change.
type RefusedError struct {
	URL    string
	Status int
	Body   string
	Hint   string
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("%s refused the WebSocket upgrade: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.Hint != "" {
		msg += "\n  hint: " + e.Hint
	}
	return msg
}

// dialError turns a failed dial into an error that says what to do.
func dialError(u string, resp *http.Response, err error) error {
	if resp != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		e := &RefusedError{URL: u, Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			e.Hint = "the node's connection limits are lower than the connections this run opens; " +
				"raise the gateway's per-IP and per-app connection limits (" + limitSettings + ") " +
				"and its process's open-file limit (ulimit -n)"
		case http.StatusUnauthorized, http.StatusForbidden:
			e.Hint = "check -api-key; the key's app must own the conversations"
		case http.StatusNotFound:
			e.Hint = "this node has no WebSocket endpoint at /ws"
		}
		return e
	}
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return fmt.Errorf("dial %s: %w\n  hint: this process ran out of file descriptors; raise `ulimit -n` (the hard limit: the tool already raised its soft limit up to it)", u, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("dial %s: %w\n  hint: out of ephemeral ports; widen net.ipv4.ip_local_port_range or open fewer connections", u, err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("dial %s: %w\n  hint: the server closed the connection during the handshake; it may be out of file descriptors (raise its `ulimit -n`) or at a connection limit (%s)", u, err, limitSettings)
	}
	return fmt.Errorf("dial %s: %w", u, err)
}

// limitSettings names the gateway's connection-limit settings for hints.
const limitSettings = "realtime.Options MaxConnsPerIP (256) and MaxConnsPerApp (20,000); on loopback, lower -per-ip"

// bare is the in-process baseline server.
type bare struct {
	url string // ws://host:port/ws
	src sources
}

func (b *bare) name() string          { return "bare websocket" }
func (b *bare) nodes() int            { return 1 }
func (b *bare) metricsURL(int) string { return "" }

func (b *bare) prepare(_ context.Context, n int, run string) ([]room, error) {
	rooms := make([]room, n)
	for i := range rooms {
		rooms[i] = room{id: "bare-" + run + "-" + strconv.Itoa(i)}
	}
	return rooms, nil
}

func (b *bare) dial(ctx context.Context, _, i int, _ room) (*websocket.Conn, error) {
	c, resp, err := b.src.dial(ctx, b.url, nil, i)
	if err != nil {
		return nil, dialError(b.url, resp, err)
	}
	return c, nil
}
