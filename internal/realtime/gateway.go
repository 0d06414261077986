// Package realtime is Switchboard's WebSocket gateway, GET /ws: one
// endpoint for the widget, the dashboard and API clients. It pushes a
// conversation's messages and an app's inbox changes in seq order, resumes a
// client exactly where it left off, and carries typing and presence.
//
// The store is the truth. A bus event only says "conversation C has reached
// seq N"; the gateway reads what is missing from the store (once per node,
// kept in a small per-stream ring) and delivers it through each
// subscription's single, cursor-guarded path, so replay, live fan-out and
// periodic catch-up can never reorder or repeat a message.
//
// Memory per idle connection is kept small on purpose (docs/realtime.md):
// the reading goroutine is net/http's own, a writing goroutine exists only
// while there is something to write, buffers are small or pooled, and
// heartbeats run from one ticker for the whole gateway.
package realtime

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpapi"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Options configure a Gateway. Service and Bus are required; zero limits
// take the defaults named beside them.
type Options struct {
	Service *service.Service
	// Store defaults to Service.Store().
	Store Store
	// Bus defaults to Service.Bus().
	Bus bus.Bus
	// Keys verifies contact tokens; it defaults to Service.Keys().
	Keys   *auth.Keyring
	Logger *slog.Logger
	// NodeID names this node in presence records and bus events.
	NodeID string
	// PublicURL is the origin a dashboard page is served from: cookie
	// connections must come from it (or from the request's own host).
	PublicURL string
	// Registry receives the gateway's metrics; nil keeps them private.
	Registry *prometheus.Registry

	// TrustedProxies are the reverse proxies whose forwarding headers name
	// the client that MaxConnsPerIP counts (see httpx.ClientAddr); nil
	// trusts none, and every client behind a proxy shares its address.
	TrustedProxies []netip.Prefix

	MaxConnsPerIP     int // 0 → 256
	MaxConnsPerApp    int // 0 → 20000
	MaxSubscriptions  int // per connection; 0 → 100
	SendQueueMessages int // frames waiting for one connection; 0 → 512
	SendQueueBytes    int // bytes waiting for one connection; 0 → 1 MiB

	PingInterval time.Duration // 0 → 25 s
	PongTimeout  time.Duration // 0 → 10 s
	WriteTimeout time.Duration // one frame's write; 0 → 10 s
	// ReconcileInterval is how often the store is polled for events the
	// bus lost; 0 → 2 s.
	ReconcileInterval time.Duration
	// PresenceInterval is how often this node's connected agents are
	// written to the store (they expire after three intervals); 0 → 10 s.
	PresenceInterval time.Duration
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxConnsPerIP, 256)
	def(&o.MaxConnsPerApp, 20000)
	def(&o.MaxSubscriptions, 100)
	def(&o.SendQueueMessages, 512)
	def(&o.SendQueueBytes, 1<<20)
	defD(&o.PingInterval, 25*time.Second)
	defD(&o.PongTimeout, 10*time.Second)
	defD(&o.WriteTimeout, 10*time.Second)
	defD(&o.ReconcileInterval, 2*time.Second)
	defD(&o.PresenceInterval, 10*time.Second)
	if o.Store == nil && o.Service != nil {
		o.Store = o.Service.Store()
	}
	if o.Bus == nil && o.Service != nil {
		o.Bus = o.Service.Bus()
	}
	if o.Keys == nil && o.Service != nil {
		o.Keys = o.Service.Keys()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.NodeID == "" {
		o.NodeID = chat.NewID()
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
}

const (
	maxFrameBytes = 64 << 10 // a bigger client frame closes with 1009
	readBuffer    = 512      // frames larger than this are read in several calls; an idle connection keeps only this
	writeBuffer   = 4 << 10
	// storePage bounds one store read, for replay and for ring fills.
	storePage = 100
	// ringSize is how many recent frames a stream keeps for subscribers
	// that are slightly behind; older ranges are read from the store.
	ringSize = 32
	// opTimeout bounds one store or service call made for a client.
	opTimeout = 15 * time.Second
)

// Gateway is the WebSocket endpoint. It is safe for concurrent use.
type Gateway struct {
	o        Options
	log      *slog.Logger
	upgrader websocket.Upgrader
	metrics  *metrics

	// ping checks the store when a frame fails unexpectedly.
	ping func(context.Context) error

	ctx    context.Context // cancelled by Close; parent of every store call
	cancel context.CancelFunc
	unsub  func()
	wg     sync.WaitGroup // every goroutine the gateway owns, readers included

	mu       sync.RWMutex
	closing  bool
	conns    map[*conn]struct{}
	ips      map[string]int
	apps     map[string]*appState
	streams  map[string]*stream
	agents   map[agentKey]int // live connections per agent on this node
	presence []presenceChange // connection changes not yet announced

	kick   chan struct{}  // wakes the loop to announce presence changes
	events chan bus.Event // presence events for the loop

	closeOnce sync.Once
}

type agentKey struct{ appID, agentID string }

type presenceChange struct {
	agentKey
	connected bool
}

// appState is what the gateway keeps per app with connections here.
type appState struct {
	conns    map[*conn]struct{}
	contacts int // connections of contacts, who are told agents_online
	online   bool
	known    bool // online has been computed
}

// New builds a gateway and starts its loop; Close stops it.
func New(o Options) *Gateway {
	o.defaults()
	g := &Gateway{
		o:       o,
		log:     o.Logger,
		conns:   map[*conn]struct{}{},
		ips:     map[string]int{},
		apps:    map[string]*appState{},
		streams: map[string]*stream{},
		agents:  map[agentKey]int{},
		kick:    make(chan struct{}, 1),
		events:  make(chan bus.Event, 256),
	}
	if o.Service != nil {
		g.ping = o.Service.Store().Ping
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	g.metrics = newMetrics(reg)
	g.upgrader = websocket.Upgrader{
		ReadBufferSize:  readBuffer,
		WriteBufferSize: writeBuffer,
		// One pool for the whole gateway: a connection holds a write
		// buffer only while a frame is being written.
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: false,
		// Origins are checked in ServeHTTP, where the credential is known:
		// only cookie connections need it, because only cookies are sent
		// by a browser on its own.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	g.unsub = o.Bus.Subscribe(g.onEvent)
	g.wg.Add(2)
	go g.heartbeatLoop()
	go g.syncLoop()
	return g
}

// Close closes every connection with 1001 "going away", clears this node's
// presence and waits for every goroutine of the gateway. It is idempotent.
func (g *Gateway) Close() {
	g.closeOnce.Do(func() {
		// No bus callback may start work after this.
		g.unsub()
		g.mu.Lock()
		g.closing = true
		conns := make([]*conn, 0, len(g.conns))
		for c := range g.conns {
			conns = append(conns, c)
		}
		g.mu.Unlock()
		for _, c := range conns {
			c.shutdown(websocket.CloseGoingAway, "going away")
		}
		g.cancel()
		g.wg.Wait()
		g.clearPresence()
	})
}

// spawn runs fn on a goroutine the gateway owns. Callers are themselves
// owned goroutines (or the bus callback, before Close unsubscribes it), so
// the wait group's counter is never zero when this adds to it.
func (g *Gateway) spawn(fn func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		fn()
	}()
}

// ServeHTTP upgrades GET /ws. Every refusal (credentials, origin, limits)
// happens before the upgrade, as a JSON error body with its HTTP status.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		httpx.WriteError(w, r, g.log, chat.Errorf(chat.CodeInvalid, "this endpoint speaks WebSocket only: send an Upgrade request"))
		return
	}
	ip := httpx.ClientAddr(r, g.o.TrustedProxies).String()
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		httpx.WriteError(w, r, g.log, chat.Errorf(chat.CodeUnavailable, "the server is shutting down"))
		return
	}
	if g.ips[ip] >= g.o.MaxConnsPerIP {
		g.mu.Unlock()
		httpx.WriteError(w, r, g.log, chat.Errorf(chat.CodeRateLimited, "too many connections from this address"))
		return
	}
	// The slot is held from here, so that a burst of handshakes cannot
	// all pass the check before any is counted.
	g.ips[ip]++
	g.wg.Add(1)
	g.mu.Unlock()
	defer g.wg.Done()
	released := false
	release := func() {
		if !released {
			released = true
			g.mu.Lock()
			g.releaseIP(ip)
			g.mu.Unlock()
		}
	}
	defer release()

	p, err := g.authenticate(r)
	if err != nil {
		httpx.WriteError(w, r, g.log, err)
		return
	}
	c := &conn{g: g, p: p, ip: ip}
	g.mu.Lock()
	app := g.apps[p.appID]
	if app != nil && len(app.conns) >= g.o.MaxConnsPerApp {
		g.mu.Unlock()
		httpx.WriteError(w, r, g.log, chat.Errorf(chat.CodeRateLimited, "too many connections for this app"))
		return
	}
	if app == nil {
		app = &appState{conns: map[*conn]struct{}{}}
		g.apps[p.appID] = app
	}
	// Registered before the upgrade so that the per-app count holds
	// during the handshake; unregister undoes it on any failure.
	app.conns[c] = struct{}{}
	if p.contactID != "" {
		app.contacts++
	}
	g.mu.Unlock()

	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the client already.
		g.unregister(c, false)
		return
	}
	released = true // unregister releases the address from now on
	g.mu.Lock()
	// Set under both locks: fan-out (under g.mu) reads c.ws to skip
	// connections still in their handshake, and shutdown (under c.mu)
	// reads it to decide whether there is a socket to close.
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	// Close may have taken its list of connections during the handshake;
	// then this one would never be told to go and Close would wait for it
	// forever, so it is registered as usual and told to go at once.
	closing := g.closing
	g.conns[c] = struct{}{}
	if p.agentID != "" {
		k := agentKey{p.appID, p.agentID}
		g.agents[k]++
		if g.agents[k] == 1 {
			g.presence = append(g.presence, presenceChange{k, true})
			g.kickLoop()
		}
	}
	g.mu.Unlock()
	g.metrics.connections.Inc()
	if closing {
		c.shutdown(websocket.CloseGoingAway, "going away")
	}
	c.lastPong.Store(time.Now().UnixNano())
	// The read loop runs on a goroutine of the gateway's own, and the
	// handler returns: net/http's connection goroutine, its deep stack and
	// its 4 KiB read and write buffers are then freed for the life of the
	// WebSocket, which is most of what an idle connection would cost.
	// (The handler's wait-group count is still held, so spawn is safe.)
	g.spawn(func() {
		c.readLoop()
		g.unregister(c, true)
		g.metrics.connections.Dec()
	})
}

func (g *Gateway) releaseIP(ip string) {
	if g.ips[ip]--; g.ips[ip] <= 0 {
		delete(g.ips, ip)
	}
}

// unregister forgets a connection; upgraded says whether it got as far as
// the live maps.
func (g *Gateway) unregister(c *conn, upgraded bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if app := g.apps[c.p.appID]; app != nil {
		delete(app.conns, c)
		if c.p.contactID != "" {
			app.contacts--
		}
		if len(app.conns) == 0 {
			delete(g.apps, c.p.appID)
		}
	}
	if !upgraded {
		return
	}
	g.releaseIP(c.ip)
	delete(g.conns, c)
	if c.p.agentID != "" {
		k := agentKey{c.p.appID, c.p.agentID}
		if g.agents[k]--; g.agents[k] <= 0 {
			delete(g.agents, k)
			g.presence = append(g.presence, presenceChange{k, false})
			g.kickLoop()
		}
	}
}

func (g *Gateway) kickLoop() {
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// fileURL makes attachment links absolute, as the REST API does.
func (g *Gateway) fileURL(appID, uploadID string) string {
	return g.o.PublicURL + g.o.Service.FileURL(appID, uploadID)
}

func (g *Gateway) messageBytes(m *chat.Message) []byte {
	return encode(messageFrame{Type: frameMessage, ConversationID: m.ConversationID, Seq: m.Seq, Message: httpapi.MessageJSON(m, g.fileURL)})
}

func (g *Gateway) inboxBytes(e *chat.InboxEvent) []byte {
	return encode(inboxFrame{Type: frameConvUpdated, Seq: e.Seq, Kind: e.Kind, Conversation: httpapi.ConversationJSON(&e.Conversation)})
}

func (g *Gateway) publish(e bus.Event) {
	e.Node = g.o.NodeID
	ctx, cancel := context.WithTimeout(g.ctx, opTimeout)
	defer cancel()
	if err := g.o.Bus.Publish(ctx, e); err != nil {
		g.log.Warn("realtime: publishing on the bus", "type", e.Type, "err", err)
	}
}
