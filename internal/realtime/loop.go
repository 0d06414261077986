package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// heartbeatLoop pings every connection from one ticker and drops the
// dead ones. It does no store I/O, so a slow database never delays it.
// One loop for all connections keeps an idle connection free of timers.
func (g *Gateway) heartbeatLoop() {
	defer g.wg.Done()
	every := max(min(g.o.PingInterval, g.o.PongTimeout)/2, 5*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case now := <-tick.C:
			g.heartbeat(now)
		}
	}
}

// syncLoop is the gateway's work against the store: reconciliation and
// presence.
func (g *Gateway) syncLoop() {
	defer g.wg.Done()
	reconcile := time.NewTicker(g.o.ReconcileInterval)
	defer reconcile.Stop()
	refresh := time.NewTicker(g.o.PresenceInterval)
	defer refresh.Stop()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-reconcile.C:
			g.reconcile()
		case <-g.kick:
			g.announcePresence()
		case <-refresh.C:
			g.writePresence()
			g.refreshAgentsOnline()
		case e := <-g.events:
			g.presenceEvent(e)
		}
	}
}

// heartbeat pings connections due for it and drops those that did not
// answer the last ping within PongTimeout.
func (g *Gateway) heartbeat(now time.Time) {
	g.mu.RLock()
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.RUnlock()
	t := now.UnixNano()
	for _, c := range conns {
		last := c.lastPong.Load()
		c.mu.Lock()
		outstanding := c.pingSent > last // a ping is unanswered
		switch {
		case c.closed:
		case outstanding && t-c.pingSent > int64(g.o.PongTimeout):
			c.mu.Unlock()
			c.shutdown(closeNoFrame, "")
			continue
		case !outstanding && t-max(c.pingSent, last) >= int64(g.o.PingInterval):
			c.pingSent, c.pingDue = t, true
			c.startWriterLocked()
		}
		c.mu.Unlock()
	}
}

// reconcile catches events the bus lost: it asks the store for the head of
// every stream with subscribers here and pokes subscriptions that lag.
func (g *Gateway) reconcile() {
	ctx, cancel := context.WithTimeout(g.ctx, opTimeout)
	defer cancel()
	g.mu.RLock()
	byApp := map[string][]*stream{}
	var inboxes []*stream
	for _, st := range g.streams {
		if st.convID == "" {
			inboxes = append(inboxes, st)
		} else {
			byApp[st.appID] = append(byApp[st.appID], st)
		}
	}
	g.mu.RUnlock()
	for appID, sts := range byApp {
		// Bounded pages keep one query's IN list reasonable.
		for chunk := range slices.Chunk(sts, 500) {
			ids := make([]string, len(chunk))
			for i, st := range chunk {
				ids[i] = st.convID
			}
			seqs, err := g.o.Store.LastSeqs(ctx, appID, ids)
			if err != nil {
				if ctx.Err() == nil {
					g.log.Warn("realtime: reconciling", "app", appID, "err", err)
				}
				continue
			}
			for _, st := range chunk {
				st.catchUp(ctx, seqs[st.convID])
			}
		}
	}
	for _, st := range inboxes {
		seq, err := g.o.Store.InboxSeq(ctx, st.appID)
		if err == nil {
			st.catchUp(ctx, seq)
		}
	}
}

// catchUp makes sure the stream and each subscription reach seq.
func (s *stream) catchUp(ctx context.Context, seq int64) {
	s.notify(seq)
	s.mu.Lock()
	head := s.head
	subs := make([]*subscription, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		sub.mu.Lock()
		lag := sub.ready && sub.cursor < head
		sub.mu.Unlock()
		if lag {
			sub.advance(ctx, head)
		}
	}
}

// announcePresence records the node's connected agents in the store, then
// tells every node which agents connected or left, so that they recompute
// presence from the store (which by then agrees).
func (g *Gateway) announcePresence() {
	g.mu.Lock()
	changes := g.presence
	g.presence = nil
	g.mu.Unlock()
	g.writePresence()
	for _, ch := range changes {
		connected := ch.connected
		data, _ := json.Marshal(presenceData{AgentID: ch.agentID, Connected: &connected})
		g.publish(bus.Event{Type: bus.TypePresence, AppID: ch.appID, Data: data})
	}
}

func (g *Gateway) writePresence() {
	g.mu.RLock()
	refs := make([]store.AgentRef, 0, len(g.agents))
	for k := range g.agents {
		refs = append(refs, store.AgentRef{AppID: k.appID, AgentID: k.agentID})
	}
	g.mu.RUnlock()
	ctx, cancel := context.WithTimeout(g.ctx, opTimeout)
	defer cancel()
	if err := g.o.Store.SetNodeConnections(ctx, g.o.NodeID, refs, time.Now().Add(3*g.o.PresenceInterval)); err != nil && ctx.Err() == nil {
		g.log.Warn("realtime: recording connected agents", "err", err)
	}
}

// clearPresence runs at Close: this node's agents are no longer connected
// here, and other nodes should know now rather than at expiry.
func (g *Gateway) clearPresence() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := g.o.Store.SetNodeConnections(ctx, g.o.NodeID, nil, time.Now()); err != nil {
		g.log.Warn("realtime: clearing connected agents", "err", err)
	}
	g.mu.Lock()
	changes := g.presence
	g.presence = nil
	g.mu.Unlock()
	for _, ch := range changes {
		connected := ch.connected
		data, _ := json.Marshal(presenceData{AgentID: ch.agentID, Connected: &connected})
		e := bus.Event{Type: bus.TypePresence, AppID: ch.appID, Data: data, Node: g.o.NodeID}
		_ = g.o.Bus.Publish(ctx, e)
	}
}

// presenceEvent turns a presence wake-up into frames for this node's
// connections of the app: the agent's state for staff, and agents_online
// for contacts when it changed.
func (g *Gateway) presenceEvent(e bus.Event) {
	var d presenceData
	if json.Unmarshal(e.Data, &d) != nil || d.AgentID == "" {
		return
	}
	g.mu.RLock()
	app := g.apps[e.AppID]
	hasConns := app != nil
	g.mu.RUnlock()
	if !hasConns {
		return
	}
	ctx, cancel := context.WithTimeout(g.ctx, opTimeout)
	defer cancel()
	agent, err := g.o.Store.GetAgent(ctx, e.AppID, d.AgentID)
	if err != nil {
		return
	}
	connected, err := g.o.Store.ConnectedAgents(ctx, e.AppID)
	if err != nil {
		return
	}
	_, isConnected := slices.BinarySearch(connected, d.AgentID)
	frame := encode(presenceFrame{Type: framePresence, AgentID: agent.ID, Status: agent.Presence, Connected: isConnected})
	g.toApp(e.AppID, func(c *conn) bool { return c.p.staff() }, frame)
	g.updateAgentsOnline(ctx, e.AppID)
}

// agentsOnline reports whether an agent of the app is online by their own
// status and connected on some node: the widget's "we're here" signal.
func (g *Gateway) agentsOnline(ctx context.Context, appID string) (bool, error) {
	connected, err := g.o.Store.ConnectedAgents(ctx, appID)
	if err != nil || len(connected) == 0 {
		return false, err
	}
	agents, err := g.o.Store.ListAgents(ctx, appID)
	if err != nil {
		return false, err
	}
	for _, a := range agents {
		if _, ok := slices.BinarySearch(connected, a.ID); ok && a.Presence == chat.PresenceOnline {
			return true, nil
		}
	}
	return false, nil
}

// updateAgentsOnline recomputes the app's agents_online and tells its
// contacts here when it changed.
func (g *Gateway) updateAgentsOnline(ctx context.Context, appID string) {
	g.mu.RLock()
	app := g.apps[appID]
	contacts := app != nil && app.contacts > 0
	g.mu.RUnlock()
	if !contacts {
		return
	}
	online, err := g.agentsOnline(ctx, appID)
	if err != nil {
		return
	}
	g.mu.Lock()
	app = g.apps[appID]
	changed := app != nil && (!app.known || app.online != online)
	if app != nil {
		app.online, app.known = online, true
	}
	g.mu.Unlock()
	if changed {
		g.toApp(appID, func(c *conn) bool { return !c.p.staff() }, encode(agentsOnlineFrame{Type: frameAgentsOnline, Online: online}))
	}
}

// refreshAgentsOnline recomputes every app with contacts here, which also
// covers presence events the loop had to drop and agents whose node died.
func (g *Gateway) refreshAgentsOnline() {
	g.mu.RLock()
	apps := make([]string, 0, len(g.apps))
	for id, app := range g.apps {
		if app.contacts > 0 {
			apps = append(apps, id)
		}
	}
	g.mu.RUnlock()
	ctx, cancel := context.WithTimeout(g.ctx, opTimeout)
	defer cancel()
	for _, id := range apps {
		g.updateAgentsOnline(ctx, id)
	}
}

func (g *Gateway) toApp(appID string, want func(*conn) bool, frame []byte) {
	g.mu.RLock()
	var targets []*conn
	if app := g.apps[appID]; app != nil {
		for c := range app.conns {
			if c.ws != nil && want(c) {
				targets = append(targets, c)
			}
		}
	}
	g.mu.RUnlock()
	for _, c := range targets {
		c.enqueue(frame)
	}
}

type metrics struct {
	connections prometheus.Gauge
	sent        prometheus.Counter
	slow        prometheus.Counter
	replays     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_realtime_connections", Help: "Open WebSocket connections."}),
		sent:        prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_realtime_messages_sent_total", Help: "Message frames queued to connections."}),
		slow:        prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_realtime_slow_consumer_disconnects_total", Help: "Connections closed because they did not read fast enough."}),
		replays:     prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_realtime_resume_replays_total", Help: "Subscriptions that replayed missed messages or inbox events."}),
	}
	reg.MustRegister(m.connections, m.sent, m.slow, m.replays)
	return m
}
