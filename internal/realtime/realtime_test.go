package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard/internal/bus/natsbus/natstest"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

func TestReconnectMidStream(t *testing.T) {
	w := newWorld(t)
	n := w.node()
	c := n.mustDial(t, keyHeader(), "")
	if f := c.subscribe(w.conv.ID, 0); f.Type != "subscribed" || f.Seq != 0 {
		t.Fatalf("subscribe: %+v", f)
	}
	for i := 1; i <= 5; i++ {
		w.send(w.conv.ID, fmt.Sprint("live ", i))
	}
	c.messagesUntil(w.conv.ID, 0, 3) // read some, then go away
	c.ws.Close()
	for i := 6; i <= 20; i++ {
		w.send(w.conv.ID, fmt.Sprint("while away ", i))
	}
	c = n.mustDial(t, keyHeader(), "")
	if f := c.subscribe(w.conv.ID, 3); f.Seq != 20 {
		t.Fatalf("subscribed seq = %d, want 20", f.Seq)
	}
	c.messagesUntil(w.conv.ID, 3, 20)
	w.send(w.conv.ID, "live again")
	c.messagesUntil(w.conv.ID, 20, 21)
	c.none(300*time.Millisecond, "message")
}

func TestResumeWhileSendsRace(t *testing.T) {
	w := newWorld(t)
	n := w.node()
	const senders, each = 6, 25
	for i := 0; i < 30; i++ {
		w.send(w.conv.ID, "history")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < each; i++ {
				w.send(w.conv.ID, "racing")
			}
		}()
	}
	c := n.mustDial(t, keyHeader(), "")
	close(start)
	c.write(map[string]any{"type": "subscribe", "conversationId": w.conv.ID, "afterSeq": 0})
	if f := c.next("subscribed"); f.Seq < 30 {
		t.Fatalf("subscribed at %d", f.Seq)
	}
	// Read while the senders run: a client that stops reading also stops
	// answering pings, and on a loaded machine the gateway (1 s ping, 1 s
	// pong timeout here) would rightly cut it.
	c.messagesUntil(w.conv.ID, 0, 30+senders*each)
	wg.Wait()
	c.none(300*time.Millisecond, "message")
}

func TestSendOverWebSocket(t *testing.T) {
	w := newWorld(t)
	n := w.node()
	c := n.mustDial(t, keyHeader(), "")
	send := map[string]any{"type": "send", "conversationId": w.conv.ID, "clientKey": "k1", "text": "hello", "id": "r1",
		"sender": map[string]string{"type": "contact"}, "metadata": map[string]string{"a": "b"}}
	c.write(send)
	ack := c.next("ack", "error")
	if ack.Type != "ack" || ack.ClientKey != "k1" || ack.Seq != 1 || ack.MessageID == "" || ack.ID != "r1" {
		t.Fatalf("ack = %+v", ack)
	}
	// Durable before the ack: the store has it now.
	msgs, err := w.st.ListMessages(w.ctx, w.admin.AppID, w.conv.ID, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].ID != ack.MessageID {
		t.Fatalf("store after ack: %v %+v", err, msgs)
	}
	c.write(send)
	again := c.next("ack", "error")
	if again.Seq != ack.Seq || again.MessageID != ack.MessageID {
		t.Fatalf("repeat ack = %+v, want %+v", again, ack)
	}
	c.subscribe(w.conv.ID, 0)
	c.messagesUntil(w.conv.ID, 0, 1)
	c.none(300*time.Millisecond, "message")

	bad := []struct {
		frame any
		code  string
		field string
	}{
		{`{"type":`, "invalid", ""},
		{`[1,2]`, "invalid", ""},
		{`{"type":"dance"}`, "invalid", "type"},
		{`{}`, "invalid", "type"},
		{`{"type":"subscribe"}`, "invalid", "conversationId"},
		{`{"type":"subscribe","conversationId":"x","afterSeq":-1}`, "invalid", "afterSeq"},
		{`{"type":"subscribe","conversationId":"nope"}`, "not_found", ""},
		{`{"type":"send","conversationId":"` + w.conv.ID + `","text":"x"}`, "invalid", "sender"},
		{`{"type":"send","conversationId":"` + w.conv.ID + `","text":"x","bogus":1}`, "invalid", ""},
		{`{"type":"typing","conversationId":"` + w.conv.ID + `"}`, "invalid", "typing"},
	}
	for _, b := range bad {
		c.write(b.frame)
		f := c.next("error")
		if f.Error.Code != b.code || (b.field != "" && f.Error.Details["field"] != b.field) {
			t.Errorf("%v: got %+v, want %s/%s", b.frame, f.Error, b.code, b.field)
		}
	}
	// Still connected: errors are answers, not disconnects.
	c.write(`{"type":"ping","id":"p"}`)
	if f := c.next("pong"); f.ID != "p" {
		t.Fatalf("pong = %+v", f)
	}
	// Abuse: a flood of bad frames closes with 1008.
	for i := 0; i < 40; i++ {
		if c.ws.WriteMessage(websocket.TextMessage, []byte("nonsense")) != nil {
			break
		}
	}
	expectClose(t, c, websocket.ClosePolicyViolation, reasonBad)

	// Oversized frame: 1009.
	c = n.mustDial(t, keyHeader(), "")
	_ = c.ws.WriteMessage(websocket.TextMessage, make([]byte, maxFrameBytes+1))
	expectClose(t, c, websocket.CloseMessageTooBig, "")
}

func expectClose(t *testing.T, c *client, code int, reason string) {
	t.Helper()
	for i := 0; i < 100_000; i++ {
		_, err := c.read(10 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || (reason != "" && ce.Text != reason) {
			t.Fatalf("closed with %v, want %d %q", err, code, reason)
		}
		return
	}
	t.Fatal("never closed")
}

func TestSlowConsumer(t *testing.T) {
	w := newWorld(t)
	n := w.node(func(o *Options) {
		o.SendQueueMessages, o.SendQueueBytes = 64, 64<<10
		o.WriteTimeout = 10 * time.Second
		o.PingInterval, o.PongTimeout = time.Minute, time.Minute
	})
	c := n.mustDial(t, keyHeader(), "")
	c.subscribe(w.conv.ID, 0)
	// The client stops reading; 8 KB messages fill its socket buffers and
	// then the server's queue.
	text := fmt.Sprintf("%08000d", 0)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 1500 && metricValue(n.gw.metrics.slow) == 0; i++ {
		w.send(w.conv.ID, text)
	}
	if metricValue(n.gw.metrics.slow) == 0 {
		t.Fatal("never cut off")
	}
	// Reading now lets the server's blocked write finish and its close
	// frame through.
	expectClose(t, c, websocket.ClosePolicyViolation, reasonSlow)
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Megabytes were pushed at the client; the queue holds at most 64 KiB.
	// The generous bound leaves room for the store's caches and the test.
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
	t.Logf("heap in use grew by %d KiB", (int64(after.HeapInuse)-int64(before.HeapInuse))>>10)
}

func TestHeartbeatDropsDeadPeer(t *testing.T) {
	w := newWorld(t)
	n := w.node(func(o *Options) { o.PingInterval, o.PongTimeout = 100*time.Millisecond, 150*time.Millisecond })
	alive := n.mustDial(t, keyHeader(), "")
	dead := n.mustDial(t, keyHeader(), "")
	dead.ws.SetPingHandler(func(string) error { return nil }) // never answers
	go func() {
		// gorilla answers pings while reading.
		for {
			if _, _, err := alive.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	_, err := dead.read(5 * time.Second)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("dead peer: %v after %v", err, time.Since(start))
	}
	time.Sleep(200 * time.Millisecond)
	if got := metricValue(n.gw.metrics.connections); got != 1 {
		t.Fatalf("connections = %v, want the live one only", got)
	}
}

func TestAuth(t *testing.T) {
	w := newWorld(t)
	n := w.node(func(o *Options) { o.MaxConnsPerIP = 3 })
	other, otherOwner, err := w.svc.CreateApp(w.ctx, w.owner, service.NewApp{Name: "Other", Owner: service.NewAgent{Email: "boss@other.example", Name: "Boss", Password: "password-123"}})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _, _, err := w.svc.Login(w.ctx, "boss@other.example", "password-123")
	if err != nil {
		t.Fatal(err)
	}
	_ = otherOwner
	cookie := func(tok, origin string) http.Header {
		h := http.Header{"Cookie": {"switchboard_session=" + tok}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		return h
	}
	now := time.Now()
	refused := []struct {
		name   string
		h      http.Header
		query  string
		status int
	}{
		{"nothing", nil, "", 401},
		{"wrong key", http.Header{"Authorization": {"Bearer sbk_nope_nope"}}, "", 401},
		{"malformed authorization", http.Header{"Authorization": {"Basic x"}}, "", 401},
		{"bad token", nil, "token=ct1~x~y~z~sig", 401},
		{"expired token", nil, "token=" + w.keys.ContactToken(w.admin.AppID, w.conv.ContactID, now.Add(-time.Minute)), 401},
		{"token of unknown contact", nil, "token=" + w.keys.ContactToken(w.admin.AppID, "ghost", now.Add(time.Hour)), 401},
		{"cross-origin cookie", cookie(w.session, "https://evil.example"), "", 403},
		{"cookie without origin", cookie(w.session, ""), "", 403},
		{"bad cookie", cookie("nope", "http://dashboard.example"), "", 401},
	}
	for _, r := range refused {
		_, resp, err := n.dial(t, r.h, r.query)
		if err == nil || resp == nil || resp.StatusCode != r.status {
			t.Errorf("%s: err %v, resp %v, want %d", r.name, err, resp, r.status)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: content type %q", r.name, ct)
		}
	}

	// Cookie from the dashboard's origin works; another app's
	// conversation is refused like an unknown one, and nothing arrives.
	oc := n.mustDial(t, cookie(otherTok, "http://dashboard.example"), "")
	if f := oc.subscribe(w.conv.ID, 0); f.Type != "error" || f.Error.Code != "not_found" {
		t.Fatalf("foreign subscribe: %+v", f)
	}
	_ = other

	// A contact reaches its own conversation and no other.
	mine := w.conv
	theirs := w.newConversation("visitor-2")
	cc := n.mustDial(t, nil, "token="+w.keys.ContactToken(w.admin.AppID, mine.ContactID, now.Add(time.Hour)))
	if f := cc.subscribe(theirs.ID, 0); f.Type != "error" || f.Error.Code != "not_found" {
		t.Fatalf("contact subscribing to another's conversation: %+v", f)
	}
	cc.write(map[string]any{"type": "send", "conversationId": theirs.ID, "text": "hi", "clientKey": "x"})
	if f := cc.next("error"); f.Error.Code != "not_found" || f.ClientKey != "x" {
		t.Fatalf("contact sending to another's conversation: %+v", f)
	}
	cc.write(`{"type":"subscribe_inbox"}`)
	if f := cc.next("error"); f.Error.Code != "forbidden" {
		t.Fatalf("contact inbox: %+v", f)
	}
	if f := cc.subscribe(mine.ID, 0); f.Type != "subscribed" {
		t.Fatalf("own conversation: %+v", f)
	}
	cc.write(map[string]any{"type": "send", "conversationId": mine.ID, "text": "from the widget", "clientKey": "w1"})
	// The contact is subscribed to its own conversation, so its message
	// comes back as well; it may arrive before or after the ack (see
	// docs/realtime.md), so both are awaited in either order.
	var ack frame
	for echoed := false; ack.Type == "" || !echoed; {
		switch f := cc.next("ack", "message"); f.Type {
		case "ack":
			ack = f
		case "message":
			if f.ConversationID != mine.ID || f.Seq != 1 || echoed {
				t.Fatalf("unexpected message frame: %+v", f)
			}
			echoed = true
		}
	}
	msgs, _ := w.st.ListMessages(w.ctx, w.admin.AppID, mine.ID, 0, 10)
	if len(msgs) != 1 || msgs[0].Sender != (chat.Sender{Type: chat.SenderContact, ID: mine.ContactID}) || msgs[0].ID != ack.MessageID {
		t.Fatalf("contact's message: %+v", msgs)
	}
	w.send(theirs.ID, "not for you")
	cc.none(300*time.Millisecond, "message")
	oc.none(10*time.Millisecond, "message")

	// Per-IP limit: three are open (oc, cc and this one); the fourth is refused.
	n.mustDial(t, keyHeader(), "")
	if _, resp, err := n.dial(t, keyHeader(), ""); err == nil || resp == nil || resp.StatusCode != 429 {
		t.Fatalf("over the per-IP limit: %v %v", err, resp)
	}
}

func TestInboxStream(t *testing.T) {
	w := newWorld(t)
	n := w.node()
	head, err := w.st.InboxSeq(w.ctx, w.admin.AppID)
	if err != nil || head < 1 {
		t.Fatalf("inbox seq %d %v", head, err)
	}
	c := n.mustDial(t, keyHeader(), "")
	c.write(map[string]any{"type": "subscribe_inbox", "afterSeq": 0})
	if f := c.next("inbox_subscribed"); f.Seq != head {
		t.Fatalf("inbox_subscribed = %+v, want seq %d", f, head)
	}
	expect := func(from, until int64) {
		t.Helper()
		for want := from + 1; want <= until; want++ {
			f := c.next("conversation.updated")
			var conv struct{ ID string }
			if f.Seq != want || f.Kind == "" || json_(f.Conversation, &conv) != nil || conv.ID == "" {
				t.Fatalf("inbox frame %+v, want seq %d", f, want)
			}
		}
	}
	expect(0, head)
	if _, err := w.svc.ChangeStatus(w.ctx, w.admin, w.conv.ID, chat.StatusResolved); err != nil {
		t.Fatal(err)
	}
	w.newConversation("visitor-9")
	expect(head, head+2)
	c.none(300*time.Millisecond, "conversation.updated")
}

func TestTypingAndPresence(t *testing.T) {
	w := newWorld(t)
	n := w.node()
	other := w.newConversation("visitor-2")
	token := func(conv *chat.Conversation) string {
		return "token=" + w.keys.ContactToken(w.admin.AppID, conv.ContactID, time.Now().Add(time.Hour))
	}
	contact := n.mustDial(t, nil, token(w.conv))
	contact.subscribe(w.conv.ID, 0)
	if f := contact.next("agents_online"); f.Online {
		t.Fatalf("nobody is connected yet: %+v", f)
	}
	bystander := n.mustDial(t, nil, token(other))
	bystander.subscribe(other.ID, 0)
	watcher := n.mustDial(t, keyHeader(), "") // a dashboard by API key
	watcher.subscribe(w.conv.ID, 0)

	// The owner (manually online by default?) connects with a cookie.
	if _, err := w.svc.SetPresence(w.ctx, w.owner, w.owner.AgentID, chat.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	agent := n.mustDial(t, http.Header{"Cookie": {"switchboard_session=" + w.session}, "Origin": {"http://dashboard.example"}}, "")
	// The manual change comes first (not connected yet), then the
	// connection.
	for f := watcher.next("presence"); !f.Connected; f = watcher.next("presence") {
		if f.AgentID != w.owner.AgentID || f.Status != "online" {
			t.Fatalf("presence to staff: %+v", f)
		}
	}
	// Only changes are sent, so the next one is the agent arriving.
	if f := contact.next("agents_online"); !f.Online {
		t.Fatalf("agents_online after the agent connected: %+v", f)
	}
	agent.subscribe(w.conv.ID, 0)

	agent.write(map[string]any{"type": "typing", "conversationId": w.conv.ID, "typing": true})
	f := contact.next("typing")
	if f.ConversationID != w.conv.ID || !f.Typing || f.Sender == nil || *f.Sender != (chat.Sender{Type: chat.SenderAgent, ID: w.owner.AgentID}) {
		t.Fatalf("typing to the contact: %+v", f)
	}
	watcher.next("typing")
	agent.none(200*time.Millisecond, "typing")      // not echoed to the typist
	bystander.none(10*time.Millisecond, "typing")   // another conversation
	bystander.none(10*time.Millisecond, "presence") // contacts get agents_online only

	agent.ws.Close()
	if f := watcher.next("presence"); f.Connected {
		t.Fatalf("presence after disconnect: %+v", f)
	}
	if f := contact.next("agents_online"); f.Online {
		t.Fatalf("agents_online after the agent left: %+v", f)
	}
}

func TestTwoNodes(t *testing.T) {
	w := newWorld(t)
	a := w.node()
	b := w.node()
	sub := b.mustDial(t, keyHeader(), "")
	sub.subscribe(w.conv.ID, 0)
	snd := a.mustDial(t, keyHeader(), "")
	snd.write(map[string]any{"type": "send", "conversationId": w.conv.ID, "clientKey": "n1", "text": "via A", "sender": map[string]string{"type": "contact"}})
	snd.next("ack")
	sub.messagesUntil(w.conv.ID, 0, 1)
}

func TestReconcileCatchesLostEvents(t *testing.T) {
	w := newWorld(t)
	n := w.node(func(o *Options) { o.ReconcileInterval = 100 * time.Millisecond })
	c := n.mustDial(t, keyHeader(), "")
	c.subscribe(w.conv.ID, 0)
	// Straight into the store: no bus event is ever published.
	for i := 0; i < 3; i++ {
		if _, _, err := w.st.AppendMessage(w.ctx, w.admin.AppID, w.conv.ID, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: w.conv.ContactID}, Text: "quiet"}); err != nil {
			t.Fatal(err)
		}
	}
	c.messagesUntil(w.conv.ID, 0, 3)
}

func TestCloseSaysGoingAway(t *testing.T) {
	w := newWorld(t)
	n := w.node()
	c := n.mustDial(t, keyHeader(), "")
	c.subscribe(w.conv.ID, 0)
	done := make(chan struct{})
	go func() { n.gw.Close(); close(done) }()
	expectClose(t, c, websocket.CloseGoingAway, "going away")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

// TestIdleConnectionCost measures what idle connections cost the process:
// heap and goroutine stacks, server and client sides together (both live in
// this process), so the server's share is below the figure logged.
func TestIdleConnectionCost(t *testing.T) {
	w := newWorld(t)
	n := w.node(func(o *Options) {
		o.PingInterval, o.PongTimeout = time.Minute, time.Minute
		o.MaxConnsPerIP = 1000
	})
	const conns = 300
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < conns; i++ {
		n.mustDial(t, keyHeader(), "")
	}
	for metricValue(n.gw.metrics.connections) < conns {
		time.Sleep(5 * time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	per := used / conns
	t.Logf("%d idle connections: %d bytes each, client and server sides together", conns, per)
	// Generous: the race detector and the in-process clients inflate it.
	if per > 128<<10 {
		t.Errorf("an idle connection costs %d bytes", per)
	}
}

// A contact hears of its conversation's status and assignee changes on
// the node it is connected to, whichever node (here: the service, as the
// REST API would) made them; it hears only the state a contact may see,
// and neither staff nor other contacts get the contact's frame.
func TestContactHearsStatusChanges(t *testing.T) {
	w := newWorld(t)
	a, b := w.node(), w.node()
	token := func(conv *chat.Conversation) string {
		return "token=" + w.keys.ContactToken(w.admin.AppID, conv.ContactID, time.Now().Add(time.Hour))
	}
	other := w.newConversation("visitor-2")
	contact := b.mustDial(t, nil, token(w.conv))
	contact.subscribe(w.conv.ID, 0)
	bystander := a.mustDial(t, nil, token(other))
	bystander.subscribe(other.ID, 0)
	watcher := a.mustDial(t, keyHeader(), "")
	watcher.subscribe(w.conv.ID, 0)

	type state struct {
		ID         string `json:"id"`
		Status     int    `json:"status"`
		StatusName string `json:"statusName"`
		Assignee   *struct {
			Type string `json:"type"`
		} `json:"assignee"`
	}
	expect := func(status chat.Status, assignee string) {
		t.Helper()
		f := contact.next("conversation.status")
		var got state
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(f.Conversation, &got); err != nil || json.Unmarshal(f.Conversation, &fields) != nil {
			t.Fatalf("status frame %s: %v", f.Conversation, err)
		}
		if f.ConversationID != w.conv.ID || got.ID != w.conv.ID || got.Status != int(status) || got.StatusName != status.String() {
			t.Fatalf("status frame = %+v %s, want %s", f, f.Conversation, status)
		}
		if (assignee == "") != (got.Assignee == nil) || (got.Assignee != nil && got.Assignee.Type != assignee) {
			t.Fatalf("assignee in %s, want %q", f.Conversation, assignee)
		}
		if len(fields) != 4 || strings.Contains(string(f.Conversation), w.owner.AgentID) {
			t.Fatalf("the contact is told more than its state: %s", f.Conversation)
		}
	}
	if _, err := w.svc.ChangeStatus(w.ctx, w.owner, w.conv.ID, chat.StatusResolved); err != nil {
		t.Fatal(err)
	}
	expect(chat.StatusResolved, "")
	if _, err := w.svc.ChangeStatus(w.ctx, w.owner, w.conv.ID, chat.StatusOpen); err != nil {
		t.Fatal(err)
	}
	expect(chat.StatusOpen, "")
	if _, err := w.svc.ChangeAssignee(w.ctx, w.owner, w.conv.ID, &chat.Assignee{Type: chat.AssigneeAgent, ID: w.owner.AgentID}); err != nil {
		t.Fatal(err)
	}
	got := contact.next("conversation.status")
	if !strings.Contains(string(got.Conversation), `"assignee":{"type":"agent"}`) {
		t.Fatalf("after the handoff: %s", got.Conversation)
	}
	watcher.none(200*time.Millisecond, "conversation.status")
	bystander.none(10*time.Millisecond, "conversation.status")
}

// Across nodes linked by NATS, as in production: the change is made where
// the service publishes (node A's bus) and heard by a contact connected to
// node B.
func TestContactHearsStatusChangesAcrossNATS(t *testing.T) {
	onA, onB := natstest.Bus(t, "node-a"), natstest.Bus(t, "node-b")
	w := newWorldOn(t, onA)
	b := w.node(func(o *Options) { o.Bus, o.NodeID = onB, "node-b" })
	contact := b.mustDial(t, nil, "token="+w.keys.ContactToken(w.admin.AppID, w.conv.ContactID, time.Now().Add(time.Hour)))
	contact.subscribe(w.conv.ID, 0)
	if _, err := w.svc.ChangeStatus(w.ctx, w.owner, w.conv.ID, chat.StatusResolved); err != nil {
		t.Fatal(err)
	}
	f := contact.next("conversation.status")
	if f.ConversationID != w.conv.ID || !strings.Contains(string(f.Conversation), `"statusName":"resolved"`) {
		t.Fatalf("status frame on node B: %+v %s", f, f.Conversation)
	}
}
