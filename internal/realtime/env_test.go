package realtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const testAPIKey = servicetest.APIKey

// world is a node (or two) over one real SQLite store and one bus.
type world struct {
	t       *testing.T
	ctx     context.Context
	st      store.Store
	svc     *service.Service
	keys    *auth.Keyring
	bus     bus.Bus
	admin   service.Actor
	owner   service.Actor
	session string // the owner's session token
	conv    *chat.Conversation
}

type node struct {
	gw  *Gateway
	srv *httptest.Server
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, bus.NewLocal())
}

// newWorldOn is newWorld with the service publishing on b.
func newWorldOn(t *testing.T, b bus.Bus) *world {
	t.Helper()
	ctx := context.Background()
	env := servicetest.New(t, func(o *service.Options) { o.Bus = b })
	w := &world{t: t, ctx: ctx, st: env.Store, svc: env.Service, keys: env.Keys, bus: b}
	var err error
	if w.admin, err = w.svc.AuthenticateAPIKey(ctx, testAPIKey); err != nil {
		t.Fatal(err)
	}
	tok, _, owner, err := w.svc.Login(ctx, servicetest.OwnerEmail, servicetest.OwnerPassword)
	if err != nil {
		t.Fatal(err)
	}
	w.session = tok
	w.owner = service.Actor{AppID: owner.AppID, AgentID: owner.ID, Role: owner.Role}
	w.conv = w.newConversation("visitor-1")
	return w
}

func (w *world) newConversation(userID string) *chat.Conversation {
	w.t.Helper()
	c, err := w.svc.StartConversation(w.ctx, w.admin, service.NewConversation{Contact: service.ContactInput{UserID: userID}, SkipRouting: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// node starts a gateway with test-sized intervals; opts may adjust them.
func (w *world) node(opts ...func(*Options)) *node {
	w.t.Helper()
	o := Options{
		Service: w.svc, Bus: w.bus, PublicURL: "http://dashboard.example",
		PingInterval: time.Second, PongTimeout: time.Second,
		// Long, so that the tests prove the bus path; reconciliation has
		// its own test.
		ReconcileInterval: time.Minute, PresenceInterval: 200 * time.Millisecond,
		WriteTimeout: 2 * time.Second,
	}
	for _, f := range opts {
		f(&o)
	}
	gw := New(o)
	srv := httptest.NewServer(gw)
	w.t.Cleanup(func() {
		gw.Close()
		srv.Close()
	})
	return &node{gw: gw, srv: srv}
}

// send stores a message as the contact, as the REST API would; the service
// wakes the bus.
func (w *world) send(convID, text string) *chat.Message {
	w.t.Helper()
	m, _, err := w.svc.SendMessage(w.ctx, w.admin, convID, service.SendInput{Text: text, Sender: &chat.Sender{Type: chat.SenderContact}})
	if err != nil {
		w.t.Error(err)
		return nil
	}
	return m
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (n *node) url() string { return "ws" + strings.TrimPrefix(n.srv.URL, "http") + "/ws" }

func (n *node) dial(t *testing.T, h http.Header, query string) (*client, *http.Response, error) {
	t.Helper()
	u := n.url()
	if query != "" {
		u += "?" + query
	}
	ws, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}, resp, nil
}

func (n *node) mustDial(t *testing.T, h http.Header, query string) *client {
	t.Helper()
	c, resp, err := n.dial(t, h, query)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	return c
}

func keyHeader() http.Header { return http.Header{"Authorization": {"Bearer " + testAPIKey}} }

func (c *client) write(v any) {
	c.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

type frame struct {
	Type           string          `json:"type"`
	ID             string          `json:"id"`
	ConversationID string          `json:"conversationId"`
	Seq            int64           `json:"seq"`
	ClientKey      string          `json:"clientKey"`
	MessageID      string          `json:"messageId"`
	Message        json.RawMessage `json:"message"`
	Kind           string          `json:"kind"`
	Conversation   json.RawMessage `json:"conversation"`
	Sender         *chat.Sender    `json:"sender"`
	Typing         bool            `json:"typing"`
	AgentID        string          `json:"agentId"`
	Status         string          `json:"status"`
	Connected      bool            `json:"connected"`
	Online         bool            `json:"online"`
	Error          struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func (c *client) read(timeout time.Duration) (frame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
	var f frame
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("server sent non-JSON %q", b)
	}
	return f, nil
}

// next returns the next frame of one of the types, skipping others
// (presence and agents_online arrive whenever they happen).
func (c *client) next(types ...string) frame {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %v: %v", types, err)
		}
		for _, t := range types {
			if f.Type == t {
				return f
			}
		}
	}
	c.t.Fatalf("no %v frame", types)
	return frame{}
}

// none asserts that no frame of these types arrives within d. It waits,
// then uses a ping as a barrier (a read timeout would break the gorilla
// connection for later reads).
func (c *client) none(d time.Duration, types ...string) {
	c.t.Helper()
	time.Sleep(d)
	c.write(`{"type":"ping","id":"barrier"}`)
	for {
		f := c.next(append([]string{"pong"}, types...)...)
		if f.Type == "pong" && f.ID == "barrier" {
			return
		}
		if f.Type != "pong" {
			c.t.Fatalf("unexpected %s frame: %+v", f.Type, f)
		}
	}
}

// messages reads message frames until it has seen seq `until`, checking
// order and uniqueness, and returns the seqs seen.
func (c *client) messagesUntil(convID string, from, until int64) {
	c.t.Helper()
	want := from + 1
	for want <= until {
		f := c.next("message")
		if f.ConversationID != convID {
			continue
		}
		if f.Seq != want {
			c.t.Fatalf("got seq %d, want %d (gap or duplicate)", f.Seq, want)
		}
		var m struct {
			Seq int64 `json:"seq"`
			ID  string
		}
		if err := json.Unmarshal(f.Message, &m); err != nil || m.Seq != f.Seq || m.ID == "" {
			c.t.Fatalf("message body %s does not match frame seq %d", f.Message, f.Seq)
		}
		want++
	}
}

func (c *client) subscribe(convID string, after int64) frame {
	c.t.Helper()
	c.write(map[string]any{"type": "subscribe", "conversationId": convID, "afterSeq": after})
	return c.next("subscribed", "error")
}
