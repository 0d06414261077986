package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Close codes and reasons are part of the protocol (docs/realtime.md).
const (
	reasonSlow     = "slow consumer: resume with afterSeq"
	reasonBad      = "too many bad frames"
	closeNoFrame   = 0 // drop the socket without a close frame (dead peer)
	badFrameWindow = 10 * time.Second
	maxBadFrames   = 20
	typingWindow   = 2 * time.Second
	maxTypingIn    = 6 // typing frames per window; more are dropped silently
)

// conn is one WebSocket connection. Its fields are what an idle connection
// costs, so nothing here is allocated before it is needed.
type conn struct {
	g  *Gateway
	ws *websocket.Conn
	p  principal
	ip string

	lastPong atomic.Int64 // unix nanos of the last sign of life

	mu         sync.Mutex
	queue      [][]byte // frames waiting for the writer, bounded
	queueBytes int
	writing    bool // a writer goroutine is running
	pingDue    bool
	pingSent   int64 // unix nanos; heartbeat loop only, under mu
	closed     bool
	closeCode  int
	closeText  string
	space      chan struct{} // made on first replay wait: the writer drained
	received   []frameIn     // read, waiting for the handler; bounded by room
	handling   bool          // a handler goroutine is running

	// room holds one token per received frame not yet handled, so a client
	// that sends faster than its frames are handled is slowed by TCP
	// instead of growing received.
	room    chan struct{}
	handled sync.WaitGroup // the handler goroutine, if any

	// Handler state: only handleLoop (one at a time) and, after it has
	// finished for good, readLoop's cleanup touch these.
	subs     map[string]*subscription // by conversation id, made on first subscribe
	inbox    *subscription
	badAt    int64
	badN     int
	typingAt int64
	typingN  int
}

// enqueue queues a frame. A full queue means the client does not read fast
// enough: it is disconnected and told to resume, because a queue that grows
// without bound is how one slow client takes the server down. It reports
// whether the frame was queued.
func (c *conn) enqueue(frame []byte) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.g.o.SendQueueMessages || c.queueBytes+len(frame) > c.g.o.SendQueueBytes {
		c.mu.Unlock()
		c.g.metrics.slow.Inc()
		c.shutdown(websocket.ClosePolicyViolation, reasonSlow)
		return false
	}
	c.queue = append(c.queue, frame)
	c.queueBytes += len(frame)
	c.startWriterLocked()
	c.mu.Unlock()
	return true
}

// tryEnqueue queues an ephemeral frame (typing) only if there is room:
// losing one is harmless, so it never costs the client its connection.
func (c *conn) tryEnqueue(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.queue) >= c.g.o.SendQueueMessages/2 || c.queueBytes+len(frame) > c.g.o.SendQueueBytes/2 {
		return
	}
	c.queue = append(c.queue, frame)
	c.queueBytes += len(frame)
	c.startWriterLocked()
}

// roomy reports whether the queue is at most half full; replays wait for
// it so that catching up on a long history never trips the slow-consumer cut.
func (c *conn) roomy() (ok, closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) <= c.g.o.SendQueueMessages/2 && c.queueBytes <= c.g.o.SendQueueBytes/2, c.closed
}

// waitRoom blocks a replay until the writer has drained the queue to half,
// for at most WriteTimeout (then the client really is too slow).
func (c *conn) waitRoom() bool {
	c.mu.Lock()
	if c.space == nil {
		c.space = make(chan struct{}, 1)
	}
	space := c.space
	c.mu.Unlock()
	deadline := time.Now().Add(c.g.o.WriteTimeout)
	for time.Now().Before(deadline) {
		ok, closed := c.roomy()
		if closed {
			return false
		}
		if ok {
			return true
		}
		select {
		case <-space:
		case <-time.After(50 * time.Millisecond):
		case <-c.g.ctx.Done():
			return false
		}
	}
	c.g.metrics.slow.Inc()
	c.shutdown(websocket.ClosePolicyViolation, reasonSlow)
	return false
}

// startWriterLocked starts the writer if none runs. Holding no goroutine
// while idle is most of what keeps an idle connection small.
func (c *conn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		c.g.spawn(c.writeLoop)
	}
}

// shutdown closes the connection with a close frame (code 0: none). The
// queue is dropped at once, so a slow consumer's backlog is freed now,
// not when its socket finally gives up.
func (c *conn) shutdown(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.closeCode, c.closeText = code, reason
	c.queue, c.queueBytes = nil, 0
	if c.ws != nil {
		c.startWriterLocked()
	}
}

// writeLoop writes queued frames until the queue is empty, then exits. It
// runs once per burst of frames; its loop ends because each round takes the
// whole queue and the producers are bounded by the queue's limits.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		if c.closed {
			code, text := c.closeCode, c.closeText
			c.mu.Unlock()
			c.finish(code, text)
			return
		}
		batch, ping := c.queue, c.pingDue
		c.queue, c.queueBytes, c.pingDue = nil, 0, false
		if len(batch) == 0 && !ping {
			c.writing = false
			c.mu.Unlock()
			return
		}
		space := c.space
		c.mu.Unlock()
		if space != nil {
			select {
			case space <- struct{}{}:
			default:
			}
		}
		if ping {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.g.o.WriteTimeout)); err != nil {
				c.fail()
				return
			}
		}
		for _, f := range batch {
			if c.isClosed() {
				break
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.g.o.WriteTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.fail()
				return
			}
		}
	}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// fail is a write error: the peer is gone, so close without ceremony.
func (c *conn) fail() {
	c.mu.Lock()
	c.closed = true
	c.queue, c.queueBytes = nil, 0
	c.mu.Unlock()
	_ = c.ws.Close()
}

// finish sends the close frame, if any, then closes the socket, which
// ends the reader.
func (c *conn) finish(code int, text string) {
	if code != closeNoFrame {
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.g.o.WriteTimeout))
	}
	_ = c.ws.Close()
}

// readLoop runs on the handshake's own goroutine until the socket closes,
// then releases every subscription.
func (c *conn) readLoop() {
	c.room = make(chan struct{}, maxPendingFrames)
	defer func() {
		c.handled.Wait()
		c.dropSubscriptions()
	}()
	c.ws.SetReadLimit(maxFrameBytes)
	c.ws.SetPongHandler(func(string) error {
		c.lastPong.Store(time.Now().UnixNano())
		return nil
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.closed = true
			c.queue, c.queueBytes = nil, 0
			c.mu.Unlock()
			_ = c.ws.Close()
			return
		}
		c.lastPong.Store(time.Now().UnixNano())
		c.room <- struct{}{}
		c.mu.Lock()
		c.received = append(c.received, frameIn{text: typ == websocket.TextMessage, data: data})
		start := !c.handling
		c.handling = true
		c.mu.Unlock()
		if start {
			c.handled.Add(1)
			c.g.spawn(c.handleLoop)
		}
	}
}

// frameIn is one frame as read, before decoding.
type frameIn struct {
	text bool
	data []byte
}

// maxPendingFrames bounds the frames read but not yet handled per connection.
const maxPendingFrames = 32

// handleLoop handles received frames in order, then exits. Frames are
// handled here rather than on the read goroutine because handling (a
// subscribe with its replay, a send waiting for its commit) grows a stack,
// and a goroutine keeps its largest stack while it lives: the reader lives
// as long as the connection, this one only while there is work, which is
// what keeps an idle connection small.
func (c *conn) handleLoop() {
	defer c.handled.Done()
	for {
		c.mu.Lock()
		if len(c.received) == 0 {
			c.handling = false
			c.received = nil
			c.mu.Unlock()
			return
		}
		f := c.received[0]
		c.received[0] = frameIn{}
		c.received = c.received[1:]
		c.mu.Unlock()
		if f.text {
			c.handle(f.data)
		} else {
			c.reject("", "", "", chat.Errorf(chat.CodeInvalid, "frames must be JSON text"))
		}
		<-c.room
	}
}

// reject answers a failed frame with an error frame. Many client errors
// in a short time are abuse, or a broken client looping: close with 1008.
// The server's own failures (a store outage) are not the client's fault,
// and a client retrying through them keeps its connection.
func (c *conn) reject(id, clientKey, convID string, err error) {
	err = httpx.DuringOutage(c.g.ctx, err, c.g.ping)
	if httpx.Status(httpx.Public(err).Code) < 500 {
		now := time.Now().UnixNano()
		if now-c.badAt > int64(badFrameWindow) {
			c.badAt, c.badN = now, 0
		}
		c.badN++
		if c.badN > maxBadFrames {
			c.shutdown(websocket.ClosePolicyViolation, reasonBad)
			return
		}
	}
	c.enqueue(errorBytes(id, clientKey, convID, err))
}

func (c *conn) handle(data []byte) {
	f, err := decodeFrame(data)
	if err != nil {
		c.reject(f.ID, f.ClientKey, "", err)
		return
	}
	switch f.Type {
	case framePing:
		c.enqueue(encode(simpleFrame{Type: framePong, ID: f.ID}))
	case frameSubscribe:
		c.subscribe(f)
	case frameUnsubscribe:
		if sub := c.subs[f.ConversationID]; sub != nil {
			delete(c.subs, f.ConversationID)
			c.g.removeSub(sub)
		}
		c.enqueue(encode(simpleFrame{Type: frameUnsubscribed, ID: f.ID, ConversationID: f.ConversationID}))
	case frameSubscribeInbox:
		c.subscribeInbox(f)
	case frameUnsubscribeInbox:
		if c.inbox != nil {
			c.g.removeSub(c.inbox)
			c.inbox = nil
		}
		c.enqueue(encode(simpleFrame{Type: frameUnsubscribed, ID: f.ID}))
	case frameSend:
		c.send(f)
	case frameTyping:
		c.typing(f)
	}
}

func (c *conn) opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.g.ctx, opTimeout)
}

// conversation fetches a conversation this connection may use. A contact's
// request for someone else's conversation is answered exactly like an
// unknown id, so ids cannot be probed.
func (c *conn) conversation(ctx context.Context, id string) (*chat.Conversation, error) {
	conv, err := c.g.o.Store.GetConversation(ctx, c.p.appID, id)
	if err != nil {
		return nil, err
	}
	if c.p.contactID != "" && conv.ContactID != c.p.contactID {
		return nil, chat.NotFound("conversation")
	}
	return conv, nil
}

func (c *conn) subscribe(f clientFrame) {
	if old := c.subs[f.ConversationID]; old != nil {
		// A resubscribe is a resume from a new point: start over.
		delete(c.subs, f.ConversationID)
		c.g.removeSub(old)
	}
	if len(c.subs) >= c.g.o.MaxSubscriptions {
		c.reject(f.ID, "", f.ConversationID, chat.Errorf(chat.CodeRateLimited, "at most %d subscriptions per connection", c.g.o.MaxSubscriptions))
		return
	}
	ctx, cancel := c.opContext()
	defer cancel()
	conv, err := c.conversation(ctx, f.ConversationID)
	if err != nil {
		c.reject(f.ID, "", f.ConversationID, err)
		return
	}
	after := int64(0)
	if f.AfterSeq != nil {
		after = *f.AfterSeq
	}
	sub := c.g.addSub(c, convKey(c.p.appID, conv.ID), c.p.appID, conv.ID, conv.LastSeq, after)
	if c.subs == nil {
		c.subs = map[string]*subscription{}
	}
	c.subs[conv.ID] = sub
	c.enqueue(encode(subscribedFrame{Type: frameSubscribed, ID: f.ID, ConversationID: conv.ID, Seq: conv.LastSeq}))
	if c.p.contactID != "" {
		if online, err := c.g.agentsOnline(ctx, c.p.appID); err == nil {
			c.g.mu.Lock()
			if app := c.g.apps[c.p.appID]; app != nil && !app.known {
				// Later frames to the app's contacts then report changes only.
				app.online, app.known = online, true
			}
			c.g.mu.Unlock()
			c.enqueue(encode(agentsOnlineFrame{Type: frameAgentsOnline, Online: online}))
		}
	}
	sub.start(ctx, conv.LastSeq)
}

func (c *conn) subscribeInbox(f clientFrame) {
	if !c.p.staff() {
		c.reject(f.ID, "", "", chat.Errorf(chat.CodeForbidden, "the inbox stream is for agents and API keys"))
		return
	}
	if c.inbox != nil {
		c.g.removeSub(c.inbox)
		c.inbox = nil
	}
	ctx, cancel := c.opContext()
	defer cancel()
	head, err := c.g.o.Store.InboxSeq(ctx, c.p.appID)
	if err != nil {
		c.reject(f.ID, "", "", err)
		return
	}
	after := int64(0)
	if f.AfterSeq != nil {
		after = *f.AfterSeq
	}
	c.inbox = c.g.addSub(c, inboxKey(c.p.appID), c.p.appID, "", head, after)
	c.enqueue(encode(subscribedFrame{Type: frameInboxSubscribed, ID: f.ID, Seq: head}))
	c.inbox.start(ctx, head)
}

func (c *conn) send(f clientFrame) {
	ctx, cancel := c.opContext()
	defer cancel()
	in := service.SendInput{
		Text: f.Text, ClientKey: f.ClientKey, ContentType: f.ContentType, Metadata: f.Metadata,
		Attachments: f.Attachments, Location: f.Location, Sender: f.Sender,
	}
	if c.p.contactID != "" {
		if _, err := c.conversation(ctx, f.ConversationID); err != nil {
			c.reject(f.ID, f.ClientKey, f.ConversationID, err)
			return
		}
		in.Sender = &chat.Sender{Type: chat.SenderContact}
	}
	// SendMessage returns only once the message is durable: the ack below
	// is a promise that it survives a crash.
	msg, _, err := c.g.o.Service.SendMessage(ctx, c.p.actor, f.ConversationID, in)
	if err != nil {
		c.reject(f.ID, f.ClientKey, f.ConversationID, err)
		return
	}
	c.enqueue(encode(ackFrame{Type: frameAck, ID: f.ID, ClientKey: f.ClientKey, Seq: msg.Seq, MessageID: msg.ID}))
}

func (c *conn) typing(f clientFrame) {
	if c.subs[f.ConversationID] == nil {
		// Subscribing is what checked access to the conversation.
		c.reject(f.ID, "", f.ConversationID, chat.Errorf(chat.CodeInvalid, "subscribe to the conversation before sending typing"))
		return
	}
	now := time.Now().UnixNano()
	if now-c.typingAt > int64(typingWindow) {
		c.typingAt, c.typingN = now, 0
	}
	if c.typingN++; c.typingN > maxTypingIn {
		return
	}
	sender, ok := c.p.sender()
	if !ok {
		if f.Sender == nil || (f.Sender.Type != chat.SenderAgent && f.Sender.Type != chat.SenderBot) || chat.ValidateID("sender.id", f.Sender.ID) != nil {
			c.reject(f.ID, "", f.ConversationID, chat.FieldError("sender", `with an API key, typing needs a sender: {"type":"agent"|"bot","id":…}`))
			return
		}
		sender = *f.Sender
	}
	data, _ := json.Marshal(typingData{Sender: sender, Typing: *f.Typing})
	c.g.publish(bus.Event{Type: bus.TypeTyping, AppID: c.p.appID, ConversationID: f.ConversationID, Data: data})
}

// dropSubscriptions runs when the reader ends.
func (c *conn) dropSubscriptions() {
	for id, sub := range c.subs {
		delete(c.subs, id)
		c.g.removeSub(sub)
	}
	if c.inbox != nil {
		c.g.removeSub(c.inbox)
		c.inbox = nil
	}
}
