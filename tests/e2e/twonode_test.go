package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard/internal/bus/natsbus/natstest"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// TestTwoNodes runs two switchboard processes on one PostgreSQL database
// and the real NATS server. A widget subscribed on node B sees what is sent
// on node A; when B dies by SIGKILL, the widget reconnects to A with its
// last seq and receives everything sent meanwhile, in order, exactly once,
// while sends on A never pause.
func TestTwoNodes(t *testing.T) {
	natsURL := natstest.URL(t)
	dbURL := pgtest.URL(t)
	env := clusterEnv(t, dbURL, natsURL)
	// One after the other: B's first start finds the app, owner and API key
	// that A created, and must take them as they are.
	a := startNode(t, env())
	b := startNode(t, env())

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	api := a.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var conv conversation
	api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": "two-node-visitor"}}, http.StatusCreated, &conv)
	var tok struct {
		Token string `json:"token"`
	}
	api.do("POST", "/api/v1/contacts/"+conv.ContactID+"/token", nil, http.StatusCreated, &tok)

	sent := map[int64]string{} // seq → text, for everything acknowledged
	restSend := func(text string) {
		var m message
		api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{
			"text": text, "sender": map[string]any{"type": "contact"},
		}, http.StatusCreated, &m)
		sent[m.Seq] = text
	}

	// The widget on B, and a second connection of the same contact on A
	// that sends over the WebSocket and waits for durable acks.
	sub := dialWS(ctx, t, b, tok.Token)
	sub.subscribe(conv.ID, 0)
	sender := dialWS(ctx, t, a, tok.Token)
	for i := 1; i <= 3; i++ {
		restSend(fmt.Sprintf("rest %d", i))
		text := fmt.Sprintf("ws %d", i)
		sent[sender.send(conv.ID, fmt.Sprintf("two-node-%d", i), text)] = text
	}
	last := sub.expect(conv.ID, 0, sent, 6)
	sender.close()

	// B dies without a word; the widget's connection breaks.
	b.kill()
	sub.expectClosed()

	// Sends on A continue throughout: some land while the widget is
	// disconnected, the rest race with its replay on reconnection.
	const outage, total = 10, 30
	midway := make(chan struct{})
	done := make(chan map[int64]string, 1)
	go func() {
		// api.do calls t.Fatal on failure, which must happen on the test
		// goroutine; this one reports through the channel instead.
		got := map[int64]string{}
		for i := 1; i <= total && ctx.Err() == nil; i++ {
			text := fmt.Sprintf("during %d", i)
			seq, err := postMessage(ctx, a, conv.ID, text)
			if err != nil {
				t.Errorf("sending %q on A: %v", text, err)
				break
			}
			got[seq] = text
			if i == outage {
				close(midway)
			}
			time.Sleep(20 * time.Millisecond)
		}
		done <- got
	}()
	select {
	case <-midway:
	case <-ctx.Done():
		t.Fatal("sends on node A did not progress")
	}
	resumed := dialWS(ctx, t, a, tok.Token)
	resumed.subscribe(conv.ID, last)
	var during map[int64]string
	select {
	case during = <-done:
	case <-ctx.Done():
		t.Fatal("sends on node A did not finish")
	}
	if len(during) != total {
		t.Fatalf("%d of %d sends during the outage were acknowledged", len(during), total)
	}
	resumed.expect(conv.ID, last, during, total)
	resumed.expectQuiet()
}

// postMessage is api.do for goroutines other than the test's own.
func postMessage(ctx context.Context, n *node, convID, text string) (int64, error) {
	body, _ := json.Marshal(map[string]any{"text": text, "sender": map[string]any{"type": "contact"}})
	req, err := http.NewRequestWithContext(ctx, "POST", n.url("/api/v1/conversations/"+convID+"/messages"), strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bootstrapKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var m message
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return m.Seq, nil
}

// wsClient is one realtime connection, read from the test goroutine only.
type wsClient struct {
	t   *testing.T
	ctx context.Context
	ws  *websocket.Conn
}

type wsFrame struct {
	Type           string          `json:"type"`
	ConversationID string          `json:"conversationId"`
	Seq            int64           `json:"seq"`
	ClientKey      string          `json:"clientKey"`
	Message        json.RawMessage `json:"message"`
	Error          json.RawMessage `json:"error"`
}

func dialWS(ctx context.Context, t *testing.T, n *node, token string) *wsClient {
	t.Helper()
	return dialWSWith(ctx, t, n, "?token="+url.QueryEscape(token), nil)
}

// dialWSWith connects with query appended to /ws and header in the
// handshake.
func dialWSWith(ctx context.Context, t *testing.T, n *node, query string, header http.Header) *wsClient {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+n.addr+"/ws"+query, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: status %d: %v", n.addr, status, err)
	}
	c := &wsClient{t: t, ctx: ctx, ws: ws}
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *wsClient) write(v any) {
	c.t.Helper()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("writing %v: %v", v, err)
	}
}

// next returns the next frame that is not a heartbeat or a presence
// notice, failing the test at the context's deadline.
func (c *wsClient) next() (wsFrame, error) {
	deadline, _ := c.ctx.Deadline()
	_ = c.ws.SetReadDeadline(deadline)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return wsFrame{}, err
		}
		var f wsFrame
		if err := json.Unmarshal(data, &f); err != nil {
			return wsFrame{}, fmt.Errorf("undecodable frame %s: %w", data, err)
		}
		switch f.Type {
		case "pong", "presence", "agents_online", "typing", "conversation.updated":
			continue
		case "error":
			return f, fmt.Errorf("error frame: %s", data)
		}
		return f, nil
	}
}

func (c *wsClient) subscribe(convID string, afterSeq int64) {
	c.t.Helper()
	c.write(map[string]any{"type": "subscribe", "conversationId": convID, "afterSeq": afterSeq})
	f, err := c.next()
	if err != nil || f.Type != "subscribed" {
		c.t.Fatalf("subscribe: got %+v, %v", f, err)
	}
}

func (c *wsClient) send(convID, clientKey, text string) int64 {
	c.t.Helper()
	c.write(map[string]any{"type": "send", "conversationId": convID, "clientKey": clientKey, "text": text})
	f, err := c.next()
	if err != nil || f.Type != "ack" || f.ClientKey != clientKey || f.Seq <= 0 {
		c.t.Fatalf("send %q: got %+v, %v", text, f, err)
	}
	return f.Seq
}

// expect reads n messages and requires them to be exactly seqs
// after+1 … after+n with the texts in want, in that order; it returns the
// last seq.
func (c *wsClient) expect(convID string, after int64, want map[int64]string, n int) int64 {
	c.t.Helper()
	seq := after
	for range n {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for seq %d: %v", seq+1, err)
		}
		if f.Type != "message" {
			c.t.Fatalf("waiting for seq %d: got a %q frame", seq+1, f.Type)
		}
		var m message
		if err := json.Unmarshal(f.Message, &m); err != nil {
			c.t.Fatal(err)
		}
		switch {
		case f.ConversationID != convID:
			c.t.Fatalf("message for conversation %s, want %s", f.ConversationID, convID)
		case f.Seq <= seq:
			c.t.Fatalf("duplicate or out of order: seq %d after %d", f.Seq, seq)
		case f.Seq != seq+1:
			c.t.Fatalf("gap: seq %d after %d", f.Seq, seq)
		case m.Seq != f.Seq || m.Text != want[f.Seq]:
			c.t.Fatalf("seq %d carries %q (message seq %d), want %q", f.Seq, m.Text, m.Seq, want[f.Seq])
		}
		seq = f.Seq
	}
	return seq
}

// expectQuiet requires that no further message arrives for a moment: a
// late duplicate would show up here. It ends the connection's usefulness,
// since a gorilla connection cannot be read after a read timeout.
func (c *wsClient) expectQuiet() {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				return
			}
			c.t.Fatalf("waiting for quiet: %v", err)
		}
		var f wsFrame
		_ = json.Unmarshal(data, &f)
		if f.Type == "message" {
			c.t.Fatalf("unexpected extra message: %s", data)
		}
	}
}

// expectClosed waits for the connection to break, as it must when its node
// is killed; a message before that would be a duplicate.
func (c *wsClient) expectClosed() {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			if f.Type == "error" {
				c.t.Fatalf("waiting for the connection to break: %v", err)
			}
			if c.ctx.Err() != nil {
				c.t.Fatal("the connection to the killed node stayed open")
			}
			return
		}
		if f.Type == "message" {
			c.t.Fatalf("unexpected extra message seq %d before the connection broke", f.Seq)
		}
	}
}

func (c *wsClient) close() { c.ws.Close() }
