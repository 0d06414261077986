package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// agent is one simulated dashboard user: signed in with a password, its
// session cookie on a realtime socket subscribed to the app's inbox, and
// its presence online, so that routing gives it conversations.
type agent struct {
	id   string
	node int
	ws   *websocket.Conn
}

// notice is an inbox event an agent's socket received about a
// conversation waiting for it.
type notice struct {
	at       time.Time
	assignee string // the agent it was routed to; "" when it queued
}

type handoffWait struct {
	done chan notice // buffered: the first notice only
}

// agentHub routes the agents' inbox events to the contacts that asked for
// a person.
type agentHub struct {
	mu     sync.Mutex
	expect map[string]*handoffWait // by conversation id
	byID   map[string]*agent
	lat    latencies
}

func (h *agentHub) await(conv string) *handoffWait {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := &handoffWait{done: make(chan notice, 1)}
	h.expect[conv] = w
	return w
}

// notify delivers the first event that shows conv with a person (or
// waiting for one) to whoever awaits it.
func (h *agentHub) notify(conv string, n notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.expect[conv]; w != nil {
		delete(h.expect, conv)
		w.done <- n
	}
}

func (h *agentHub) agent(id string) *agent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byID[id]
}

func (e *e2e) startAgents(ctx context.Context) error {
	e.hub.byID = map[string]*agent{}
	e.agents = make([]*agent, e.cfg.Agents)
	err := forEach(ctx, e.cfg.Agents, 4, func(ctx context.Context, i int) error {
		a, err := e.openAgent(ctx, i)
		if err != nil {
			return fmt.Errorf("agent %d: %w", i, err)
		}
		e.agents[i] = a
		e.hub.mu.Lock()
		e.hub.byID[a.id] = a
		e.hub.mu.Unlock()
		return nil
	})
	return err
}

func (e *e2e) closeAgents() {
	e.closing.Store(true)
	for _, a := range e.agents {
		if a != nil && a.ws != nil {
			a.ws.Close()
		}
	}
}

func (e *e2e) openAgent(ctx context.Context, i int) (*agent, error) {
	a := &agent{node: i % len(e.cfg.URLs)}
	base := e.node(a.node)
	email := "bench-" + e.run + "-" + strconv.Itoa(i) + "@agents.example.com"
	password := "bench-" + randHex(12)
	var created struct {
		ID string `json:"id"`
	}
	if err := e.api(ctx, 0, "POST", "/api/v1/agents", map[string]string{"email": email, "name": "Bench agent " + strconv.Itoa(i), "password": password, "role": "agent"}, &created); err != nil {
		return nil, err
	}
	a.id = created.ID
	// The dashboard signs in from a page of the installation: same origin.
	origin := http.Header{"Origin": {base}}
	resp, err := doJSON(ctx, e.admin, "POST", base, "/api/v1/auth/login", origin, map[string]string{"email": email, "password": password}, nil)
	if err != nil {
		return nil, err
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Value != "" {
			cookie = ck
		}
	}
	if cookie == nil {
		return nil, errors.New("sign-in set no session cookie")
	}
	h := http.Header{"Origin": {base}, "Cookie": {cookie.Name + "=" + cookie.Value}}
	ws, wresp, err := dialer.DialContext(ctx, wsURL(base)+"/ws", h)
	if err != nil {
		return nil, dialError(base+"/ws", wresp, err)
	}
	a.ws = ws
	if err := writeJSON(ws, map[string]string{"type": "subscribe_inbox"}); err != nil {
		ws.Close()
		return nil, err
	}
	if err := e.api(ctx, a.node, "PUT", "/api/v1/agents/"+url.PathEscape(a.id)+"/presence", map[string]string{"status": "online"}, nil); err != nil {
		ws.Close()
		return nil, err
	}
	go e.readAgent(a)
	return a, nil
}

// inboxFrame is the part of an inbox event the load reads.
type inboxFrame struct {
	Type         string `json:"type"`
	Conversation struct {
		ID       string `json:"id"`
		Assignee *struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"assignee"`
	} `json:"conversation"`
}

func (e *e2e) readAgent(a *agent) {
	for {
		_, data, err := a.ws.ReadMessage()
		now := time.Now()
		if err != nil {
			if !e.closing.Load() {
				e.errs.add("agent connection lost", err)
			}
			return
		}
		var f inboxFrame
		if json.Unmarshal(data, &f) != nil {
			e.errs.add("unreadable frame", nil)
			continue
		}
		switch f.Type {
		case "error":
			e.errs.add("error frame", errors.New(errorText(data)))
		case "conversation.updated":
			as := f.Conversation.Assignee
			if as != nil && as.Type == "bot" {
				continue // not handed off (yet)
			}
			n := notice{at: now}
			if as != nil && as.Type == "agent" {
				n.assignee = as.ID
			}
			e.hub.notify(f.Conversation.ID, n)
		}
	}
}
