package loadtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// BareServer is the baseline: a plain gorilla/websocket endpoint that speaks
// just enough of the realtime protocol for the load client (subscribe, send,
// ack, message, ping) and fans each message out to the conversation's
// subscribers. It has no auth, no store and no cross-node bus, so the gap
// between it and Switchboard is what those cost. It still does what any
// fair fan-out server must: one writer goroutine and a bounded queue per
// connection, and per-conversation ordering.
type BareServer struct {
	up websocket.Upgrader

	mu     sync.Mutex
	topics map[string]*bareTopic
}

type bareTopic struct {
	mu   sync.Mutex
	seq  int64
	subs map[*bareConn]struct{}
}

type bareConn struct {
	out  chan []byte
	once sync.Once
	done chan struct{}
}

// bareQueue bounds each connection's pending frames; a client that falls
// this far behind is dropped, as the real gateway does.
const bareQueue = 256

// NewBareServer returns the baseline handler; serve it at any path.
func NewBareServer() *BareServer {
	return &BareServer{
		up:     websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }},
		topics: map[string]*bareTopic{},
	}
}

func (s *BareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	c := &bareConn{out: make(chan []byte, bareQueue), done: make(chan struct{})}
	go c.writeLoop(ws)
	var joined []*bareTopic
	defer func() {
		for _, t := range joined {
			t.mu.Lock()
			delete(t.subs, c)
			t.mu.Unlock()
		}
		c.close()
		ws.Close()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			Type           string `json:"type"`
			ConversationID string `json:"conversationId"`
			ClientKey      string `json:"clientKey"`
			Text           string `json:"text"`
		}
		if json.Unmarshal(data, &f) != nil {
			return
		}
		switch f.Type {
		case "subscribe":
			t := s.topic(f.ConversationID)
			t.mu.Lock()
			t.subs[c] = struct{}{}
			seq := t.seq
			t.mu.Unlock()
			joined = append(joined, t)
			c.push(mustJSON(map[string]any{"type": "subscribed", "conversationId": f.ConversationID, "seq": seq}))
		case "send":
			s.publish(c, f.ConversationID, f.ClientKey, f.Text)
		case "ping":
			c.push([]byte(`{"type":"pong"}`))
		}
	}
}

// publish assigns the next seq and queues the message to every subscriber
// while holding the topic's lock, so that all subscribers see one order.
func (s *BareServer) publish(from *bareConn, conv, clientKey, text string) {
	t := s.topic(conv)
	t.mu.Lock()
	t.seq++
	seq := t.seq
	id := conv + "-" + strconv.FormatInt(seq, 10)
	frame := mustJSON(map[string]any{
		"type": "message", "conversationId": conv, "seq": seq,
		"message": map[string]any{
			"id": id, "seq": seq, "text": text, "contentType": 0, "clientKey": clientKey,
			"sender": map[string]string{"type": "contact"}, "createdAt": time.Now().UTC(),
		},
	})
	for sub := range t.subs {
		sub.push(frame)
	}
	t.mu.Unlock()
	from.push(mustJSON(map[string]any{"type": "ack", "clientKey": clientKey, "seq": seq, "messageId": id}))
}

func (s *BareServer) topic(id string) *bareTopic {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[id]
	if t == nil {
		t = &bareTopic{subs: map[*bareConn]struct{}{}}
		s.topics[id] = t
	}
	return t
}

func (c *bareConn) push(frame []byte) {
	select {
	case c.out <- frame:
	case <-c.done:
	default:
		c.close() // too slow: drop it rather than grow without bound
	}
}

func (c *bareConn) close() { c.once.Do(func() { close(c.done) }) }

func (c *bareConn) writeLoop(ws *websocket.Conn) {
	defer ws.Close() // unblocks the reader when the writer gives up
	for {
		select {
		case <-c.done:
			return
		case frame := <-c.out:
			_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if ws.WriteMessage(websocket.TextMessage, frame) != nil {
				c.close()
				return
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of plain values reach here
	}
	return b
}
