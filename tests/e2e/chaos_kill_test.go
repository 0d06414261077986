package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// loadClient is a contact's widget under load: it sends without pause over
// /ws, keeps the last seq it saw, and after any disconnect reconnects,
// resubscribes after that seq and resends its unacknowledged message with
// the same clientKey. It runs on its own goroutine and reports failures as
// errors.
type loadClient struct {
	n      *node
	convID string
	token  string
	ws     *websocket.Conn

	mu         sync.Mutex
	acked      map[string]int64 // clientKey -> seq
	last       int64            // last seq seen
	received   int              // message frames received
	reconnects int
}

func (c *loadClient) ackCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acked)
}

func (c *loadClient) lastSeq() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// connect dials until the node answers and subscribes after the last seq
// seen.
func (c *loadClient) connect(ctx context.Context) error {
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ws, _, err := websocket.DefaultDialer.DialContext(dctx, "ws://"+c.n.addr+"/ws?token="+url.QueryEscape(c.token), nil)
		cancel()
		if err == nil {
			c.ws = ws
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("conversation %s: reconnecting: %w", c.convID, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.mu.Lock()
	after := c.last
	c.mu.Unlock()
	if err := c.write(map[string]any{"type": "subscribe", "conversationId": c.convID, "afterSeq": after}); err != nil {
		c.drop()
		return nil // the loop reconnects
	}
	for {
		f, err := c.read()
		if err != nil {
			c.drop()
			return nil
		}
		if f.Type == "subscribed" {
			return nil
		}
		if f.Type == "error" {
			return fmt.Errorf("conversation %s: subscribe: %s", c.convID, f.Error)
		}
	}
}

func (c *loadClient) drop() {
	if c.ws != nil {
		c.ws.Close()
		c.ws = nil
		c.mu.Lock()
		c.reconnects++
		c.mu.Unlock()
	}
}

func (c *loadClient) write(v any) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// read returns the next frame that matters here.
func (c *loadClient) read() (wsFrame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return wsFrame{}, err
		}
		var f wsFrame
		if err := json.Unmarshal(data, &f); err != nil {
			return wsFrame{}, err
		}
		switch f.Type {
		case "pong", "presence", "agents_online", "typing", "conversation.updated":
			continue
		}
		return f, nil
	}
}

// message checks a message frame against the seqs seen so far: the next
// one, exactly.
func (c *loadClient) message(f wsFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case f.ConversationID != c.convID:
		return fmt.Errorf("conversation %s: a message of conversation %s", c.convID, f.ConversationID)
	case f.Seq <= c.last:
		return fmt.Errorf("conversation %s: seq %d again after %d", c.convID, f.Seq, c.last)
	case f.Seq != c.last+1:
		return fmt.Errorf("conversation %s: gap: seq %d after %d", c.convID, f.Seq, c.last)
	}
	c.last = f.Seq
	c.received++
	return nil
}

// send sends messages until stop is closed, each until acknowledged.
func (c *loadClient) send(ctx context.Context, stop <-chan struct{}) error {
	for i := 0; ; {
		select {
		case <-stop:
			return nil
		default:
		}
		if ctx.Err() != nil {
			return fmt.Errorf("conversation %s: %w", c.convID, ctx.Err())
		}
		if c.ws == nil {
			if err := c.connect(ctx); err != nil {
				return err
			}
			continue
		}
		key := fmt.Sprintf("%s-%d", c.convID, i)
		if err := c.write(map[string]any{"type": "send", "conversationId": c.convID, "clientKey": key, "text": key}); err != nil {
			c.drop()
			continue
		}
		ok, err := c.awaitAck(key)
		if err != nil {
			return err
		}
		if ok {
			i++
			time.Sleep(10 * time.Millisecond)
		}
		// Otherwise the same key is sent again, after a reconnection if
		// the connection broke.
	}
}

// awaitAck reads frames until key is acknowledged (true), or until the
// send must be retried (false): the connection broke, or the node was
// briefly unavailable.
func (c *loadClient) awaitAck(key string) (bool, error) {
	for {
		f, err := c.read()
		if err != nil {
			c.drop()
			return false, nil
		}
		switch {
		case f.Type == "message":
			if err := c.message(f); err != nil {
				return false, err
			}
		case f.Type == "ack" && f.ClientKey == key:
			c.mu.Lock()
			defer c.mu.Unlock()
			if prev, ok := c.acked[key]; ok && prev != f.Seq {
				return false, fmt.Errorf("conversation %s: %s acknowledged as seq %d, then %d", c.convID, key, prev, f.Seq)
			}
			c.acked[key] = f.Seq
			return true, nil
		case f.Type == "error" && strings.Contains(string(f.Error), `"unavailable"`):
			time.Sleep(100 * time.Millisecond)
			return false, nil
		case f.Type == "error":
			return false, fmt.Errorf("conversation %s: %s: error %s", c.convID, key, f.Error)
		}
	}
}

// drain reads until it has seen seq target.
func (c *loadClient) drain(ctx context.Context, target int64) error {
	for c.lastSeq() < target {
		if ctx.Err() != nil {
			return fmt.Errorf("conversation %s: saw up to seq %d of %d: %w", c.convID, c.lastSeq(), target, ctx.Err())
		}
		if c.ws == nil {
			if err := c.connect(ctx); err != nil {
				return err
			}
			continue
		}
		f, err := c.read()
		if err != nil {
			c.drop()
			continue
		}
		if f.Type == "message" {
			if err := c.message(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// hookReceiver counts outgoing webhook events by webhook-id, as receivers
// are told to, and remembers which message each one was about.
type hookReceiver struct {
	mu      sync.Mutex
	secret  string
	events  map[string]string // webhook-id -> message id
	repeats int
	bad     []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get(webhook.HeaderID)
	var ev struct {
		Type string `json:"type"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify(h.secret, id, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		h.bad = append(h.bad, fmt.Sprintf("%s: %v", id, err))
	}
	if prev, ok := h.events[id]; ok {
		h.repeats++
		if prev != ev.Data.ID {
			h.bad = append(h.bad, id+": a repeat about another message")
		}
	}
	h.events[id] = ev.Data.ID
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

// A node is killed with SIGKILL while contacts write to it over /ws, its
// bot is answering and its webhooks are going out; it is restarted on the
// same data. Every acknowledged message is in the history; every client
// resumes from its last seq and sees every seq once, in order; every
// contact message gets exactly one bot answer; every message's webhook
// event is delivered, once per event id.
func TestChaosNodeKilledUnderLoad(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) { testNodeKilledUnderLoad(t, db) })
	}
}

func testNodeKilledUnderLoad(t *testing.T, db database) {
	var botMu sync.Mutex
	botCalls := 0
	botHook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		botMu.Lock()
		botCalls++
		botMu.Unlock()
		// Long enough that turns are under way when the node dies.
		select {
		case <-time.After(30 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]map[string]any{{"message": "re: " + req.Message}})
	}))
	defer botHook.Close()
	hooks := &hookReceiver{events: map[string]string{}}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()

	env := map[string]string{
		"SWITCHBOARD_DATA_DIR":              t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY":     bootstrapKey,
		"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true",
		// A killed node's webhook leases run out soon after this.
		"SWITCHBOARD_WEBHOOK_TIMEOUT": "2s",
		"SWITCHBOARD_LOG_LEVEL":       "warn",
	}
	if u := db.url(t); u != "" {
		env["SWITCHBOARD_DATABASE_URL"] = u
	}
	n := startEmbeddedNode(t, env)
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var b struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/v1/bots", map[string]any{"name": "Echo", "type": "webhook", "webhook": map[string]any{"url": botHook.URL, "timeoutSeconds": 5}}, http.StatusCreated, &b)
	var ep struct {
		Secret string `json:"secret"`
	}
	api.do("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"message.created"}}, http.StatusCreated, &ep)
	hooks.mu.Lock()
	hooks.secret = ep.Secret
	hooks.mu.Unlock()

	const contacts, perPhase = 4, 15
	clients := make([]*loadClient, contacts)
	for i := range clients {
		var conv conversation
		api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": fmt.Sprint("kill-", i)}, "skipRouting": true, "skipBotEvent": true,
			"assignee": map[string]string{"type": "bot", "id": b.ID}}, http.StatusCreated, &conv)
		var tok struct {
			Token string `json:"token"`
		}
		api.do("POST", "/api/v1/contacts/"+conv.ContactID+"/token", nil, http.StatusCreated, &tok)
		clients[i] = &loadClient{n: n, convID: conv.ID, token: tok.Token, acked: map[string]int64{}}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	stop := make(chan struct{})
	errs := make(chan error, contacts)
	for _, c := range clients {
		go func() { errs <- c.send(ctx, stop) }()
	}
	sendErr := func() {
		t.Helper()
		select {
		case err := <-errs:
			close(stop)
			t.Fatal(err)
		default:
		}
	}
	each := func(k []int) func() bool {
		return func() bool {
			sendErr()
			for i, c := range clients {
				if c.ackCount() < k[i] {
					return false
				}
			}
			return true
		}
	}
	want := make([]int, contacts)
	for i := range want {
		want[i] = perPhase
	}
	waitFor(t, 30*time.Second, "messages before the kill", each(want))

	n.kill()
	acked := 0
	for i, c := range clients {
		want[i] = c.ackCount() + perPhase
		acked += want[i] - perPhase
	}
	delivered := hooks.count()
	botMu.Lock()
	called := botCalls
	botMu.Unlock()
	t.Logf("killed with %d contact messages acknowledged, %d bot calls made (the rest of the turns pending), %d webhook events delivered", acked, called, delivered)
	n.start() // same data, same address
	waitFor(t, 30*time.Second, "messages after the restart", each(want))
	close(stop)
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	// Every bot turn completes: one answer per contact message.
	type convCheck struct {
		contact, replies int
		last             int64
		msgIDs           []string
	}
	check := func(c *loadClient) (convCheck, error) {
		var out convCheck
		// A contact message's text is its clientKey; its answer is
		// "re: " and the text.
		keys := map[string]bool{}
		answers := map[string]int{}
		msgs := history(t, n, c.convID)
		for _, m := range msgs {
			out.msgIDs = append(out.msgIDs, m.ID)
			switch m.Sender.Type {
			case "contact":
				keys[m.ClientKey] = true
				out.contact++
			case "bot":
				answers[strings.TrimPrefix(m.Text, "re: ")]++
				out.replies++
			}
		}
		out.last = lastOf(msgs)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err := ackedIn(c.convID, msgs, c.acked); err != nil {
			return out, err
		}
		for key := range keys {
			if answers[key] != 1 {
				return out, fmt.Errorf("conversation %s: %s has %d bot answers, want 1", c.convID, key, answers[key])
			}
		}
		if len(answers) != len(keys) {
			return out, fmt.Errorf("conversation %s: %d distinct bot answers for %d contact messages", c.convID, len(answers), len(keys))
		}
		return out, nil
	}
	var checks []convCheck
	deadline := time.Now().Add(30 * time.Second)
	for {
		checks = checks[:0]
		var err error
		for _, c := range clients {
			var cc convCheck
			if cc, err = check(c); err != nil {
				break
			}
			checks = append(checks, cc)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot turns not complete 30s after the load: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every client sees the whole conversation, once and in order.
	for i, c := range clients {
		err := c.drain(ctx, checks[i].last)
		if c.ws != nil {
			c.ws.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// Every message's event is delivered.
	var msgIDs []string
	for _, cc := range checks {
		msgIDs = append(msgIDs, cc.msgIDs...)
	}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d webhook events delivered", len(msgIDs)), func() bool { return hooks.count() >= len(msgIDs) })
	time.Sleep(300 * time.Millisecond) // room for a wrong extra event
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	if len(hooks.bad) > 0 {
		t.Fatalf("%d bad webhook requests, first: %s", len(hooks.bad), hooks.bad[0])
	}
	perMessage := map[string]int{}
	for _, m := range hooks.events {
		perMessage[m]++
	}
	for _, id := range msgIDs {
		if perMessage[id] != 1 {
			t.Fatalf("message %s has %d distinct message.created events, want 1", id, perMessage[id])
		}
	}
	if len(hooks.events) != len(msgIDs) {
		t.Fatalf("%d distinct webhook events for %d messages", len(hooks.events), len(msgIDs))
	}

	contactMsgs, replies, received, reconnects := 0, 0, 0, 0
	for i, c := range clients {
		contactMsgs += checks[i].contact
		replies += checks[i].replies
		c.mu.Lock()
		received += c.received
		reconnects += c.reconnects
		if int64(c.received) != checks[i].last {
			t.Fatalf("conversation %s: client received %d messages of %d", c.convID, c.received, checks[i].last)
		}
		c.mu.Unlock()
	}
	botMu.Lock()
	called = botCalls
	botMu.Unlock()
	t.Logf("checked: %d contact messages acknowledged and found once with their seq; %d bot turns completed, each exactly one answer (%d bot calls, repeats are turns re-run after the kill)",
		contactMsgs, replies, called)
	t.Logf("checked: %d clients resumed after %d reconnections and received all %d messages in seq order, none twice; %d webhook events delivered, one per message (%d repeated deliveries deduplicated by webhook-id)",
		contacts, reconnects, received, len(hooks.events), hooks.repeats)
}
