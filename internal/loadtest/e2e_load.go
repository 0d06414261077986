package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// lexUtterance is what contacts type to the demo Lex bot: an intent it
// matches, answered with one message, so that no turn falls back (which
// would hand the conversation to a person on its own) and each send has
// exactly one reply.
const lexUtterance = "what are your opening hours"

// e2e is the state of one run against the nodes.
type e2e struct {
	cfg    E2EConfig
	run    string
	mark   marker
	appID  string
	botID  string
	admin  *http.Client
	errs   errorCounts
	hub    agentHub
	agents []*agent

	mu                          sync.Mutex
	botLat, agentLat, ackLat    latencies
	sent, acked, skipped, turns atomic.Int64
	closing                     atomic.Bool
}

func (e *e2e) record(l *latencies, d time.Duration) {
	e.mu.Lock()
	*l = append(*l, d)
	e.mu.Unlock()
}

func (e *e2e) node(i int) string { return e.cfg.URLs[i%len(e.cfg.URLs)] }

func (e *e2e) api(ctx context.Context, node int, method, path string, body, out any) error {
	_, err := doJSON(ctx, e.admin, method, e.node(node), path, bearer(e.cfg.APIKey), body, out)
	return err
}

// runE2ELoad sets up the bot, the agents and the contacts, runs the load
// for cfg.Duration and collects what was measured.
func runE2ELoad(ctx context.Context, cfg E2EConfig, cl *cluster) (*E2EResult, error) {
	e := &e2e{cfg: cfg, run: runID(), admin: &http.Client{Timeout: 15 * time.Second}}
	e.mark = marker{run: e.run, epoch: time.Now()}
	e.hub.expect = map[string]*handoffWait{}

	var me struct {
		AppID string `json:"appId"`
	}
	if err := e.api(ctx, 0, "GET", "/api/v1/auth/me", nil, &me); err != nil {
		return nil, err
	}
	e.appID = me.AppID
	cleanup, err := e.setUpBot(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	logf(cfg.Log, "e2e: %d agents signing in", cfg.Agents)
	if err := e.startAgents(ctx); err != nil {
		return nil, err
	}
	defer e.closeAgents()

	logf(cfg.Log, "e2e: %d contacts opening widget sessions and conversations", cfg.Contacts)
	contacts, err := e.startContacts(ctx)
	defer func() {
		e.closing.Store(true)
		for _, c := range contacts {
			if c != nil {
				c.ws.Close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}

	mon := newMonitor(cfg, cl)
	if err := mon.begin(ctx); err != nil {
		return nil, err
	}
	cpu0 := processCPU()
	logf(cfg.Log, "e2e: load for %s at %.1f msg/s", cfg.Duration, cfg.Rate)
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	stopMon := mon.sample(ctx)
	var wg sync.WaitGroup
	interval := time.Duration(float64(cfg.Contacts) / cfg.Rate * float64(time.Second))
	for i, c := range contacts {
		wg.Add(1)
		offset := time.Duration(int64(interval) * int64(i) / int64(len(contacts)))
		go func() {
			defer wg.Done()
			e.drive(runCtx, ctx, c, offset, interval)
		}()
	}
	wg.Wait()
	cancel()
	window := time.Since(start)
	stopMon()
	res := &E2EResult{Window: window.Round(time.Millisecond).String()}
	res.ClientCPUSeconds = (processCPU() - cpu0).Seconds()
	mon.end(ctx, res, window)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.collect(res, window)
	return res, nil
}

// setUpBot finds the node's Lex bot, or serves an instant webhook bot and
// registers it; the returned func removes what was made.
func (e *e2e) setUpBot(ctx context.Context) (func(), error) {
	if e.cfg.Bot == "lex" {
		var list struct {
			Bots []struct {
				ID      string `json:"id"`
				Type    string `json:"type"`
				Enabled bool   `json:"enabled"`
			} `json:"bots"`
		}
		if err := e.api(ctx, 0, "GET", "/api/v1/bots", nil, &list); err != nil {
			return nil, err
		}
		for _, b := range list.Bots {
			if b.Type == "lex" && b.Enabled {
				e.botID = b.ID
				return func() {}, nil
			}
		}
		return nil, errors.New("-bot lex: the app has no enabled Lex bot; start the node with SWITCHBOARD_DEMO=true (the demo bot on the local Lex runtime)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]map[string]string{{"message": webhookReply(in.Message)}})
	}))
	var b struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": "bench webhook bot " + e.run, "type": "webhook", "webhook": map[string]any{"url": srv.URL}}
	if err := e.api(ctx, 0, "POST", "/api/v1/bots", body, &b); err != nil {
		srv.Close()
		return nil, fmt.Errorf("%w\n  hint: a webhook bot on loopback needs the node to allow private addresses (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE=true)", err)
	}
	e.botID = b.ID
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.api(ctx, 0, "DELETE", "/api/v1/bots/"+url.PathEscape(b.ID), nil, nil)
		srv.Close()
	}, nil
}

// contact is one simulated widget visitor.
type contact struct {
	i, node int
	token   string
	conv    string
	http    *http.Client
	ws      *websocket.Conn
	handoff bool // this conversation asks for a person

	mu sync.Mutex
	w  *waiter // what the driver is waiting for; nil between turns
}

// waiter is one awaited send: its ack and, unless ackOnly, a reply.
type waiter struct {
	key       string
	text      string // what the contact sent
	agentText string // wait for an agent message with this text; else for the bot's reply
	ackOnly   bool
	mySeq     int64
	sent      time.Time
	acked     chan struct{}
	reply     chan time.Time // the reply's arrival; the zero time for a failure
}

func newWaiter(key string) *waiter {
	return &waiter{key: key, acked: make(chan struct{}), reply: make(chan time.Time, 1)}
}

// contactSrc spreads contacts over loopback source addresses (see sources).
func (e *e2e) contactSrc() sources {
	if loopbackOnly(e.cfg.URLs) {
		return sources{perIP: e.cfg.PerIP}
	}
	return sources{}
}

func (e *e2e) startContacts(ctx context.Context) ([]*contact, error) {
	src := e.contactSrc()
	clients := map[string]*http.Client{}
	var cmu sync.Mutex
	clientFor := func(i int) *http.Client {
		ip := src.addr(i)
		cmu.Lock()
		defer cmu.Unlock()
		k := ip.String()
		if clients[k] == nil {
			clients[k] = httpClientFrom(ip)
		}
		return clients[k]
	}
	n := e.cfg.Contacts
	handoffs := int(float64(n)*e.cfg.HandoffShare + 0.5)
	out := make([]*contact, n)
	err := forEach(ctx, n, 8, func(ctx context.Context, i int) error {
		// Handoff conversations are spread evenly over the contacts.
		c := &contact{i: i, node: i % len(e.cfg.URLs), http: clientFor(i),
			handoff: handoffs > 0 && (i*handoffs)/n != ((i+1)*handoffs)/n}
		if err := e.openContact(ctx, c, src); err != nil {
			return fmt.Errorf("contact %d: %w", i, err)
		}
		out[i] = c
		return nil
	})
	return out, err
}

func (e *e2e) openContact(ctx context.Context, c *contact, src sources) error {
	base := e.node(c.node)
	var sess struct {
		Token string `json:"contactToken"`
	}
	if _, err := doJSON(ctx, c.http, "POST", base, "/api/v1/widget/session", nil,
		map[string]any{"appId": e.appID, "userId": "bench-" + e.run + "-" + strconv.Itoa(c.i)}, &sess); err != nil {
		return err
	}
	c.token = sess.Token
	var conv struct {
		ID string `json:"id"`
	}
	if _, err := doJSON(ctx, c.http, "POST", base, "/api/v1/widget/conversations", c.tokenHeader(),
		map[string]any{"botIds": []string{e.botID}, "skipBotEvent": true}, &conv); err != nil {
		return err
	}
	c.conv = conv.ID
	ws, resp, err := src.dial(ctx, wsURL(base)+"/ws?token="+url.QueryEscape(c.token), nil, c.i)
	if err != nil {
		return dialError(base+"/ws", resp, err)
	}
	c.ws = ws
	if err := writeJSON(ws, subscribeFrame{Type: "subscribe", ConversationID: c.conv}); err != nil {
		ws.Close()
		return err
	}
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		var f inFrame
		if err := ws.ReadJSON(&f); err != nil {
			ws.Close()
			return fmt.Errorf("waiting for subscribed: %w", err)
		}
		if f.Type == "error" {
			ws.Close()
			return fmt.Errorf("subscribe refused: %s", f.Message)
		}
		if f.Type == "subscribed" {
			break
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	go e.readContact(c)
	return nil
}

func (c *contact) tokenHeader() http.Header {
	return http.Header{"X-Contact-Token": {c.token}}
}

// msgObject is the part of the REST message object the load reads.
type msgObject struct {
	Seq       int64  `json:"seq"`
	Text      string `json:"text"`
	ClientKey string `json:"clientKey"`
	Sender    struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"sender"`
	Metadata map[string]any `json:"metadata"`
}

// isBotReply tells the bot's answer to w from its other messages. The
// instant webhook bot echoes the text; the demo Lex bot answers with a
// text and then a card without text, and only the text is the reply (the
// card may be stored after the contact's next message).
func (e *e2e) isBotReply(w *waiter, text string) bool {
	if e.cfg.Bot == "webhook" {
		return text == webhookReply(w.text)
	}
	return text != ""
}

func webhookReply(text string) string { return "re: " + text }

// readContact matches the contact's frames to what its driver awaits.
// Per subscription, message frames arrive in seq order, so the contact's
// own message frame always comes before the bot's reply to it.
func (e *e2e) readContact(c *contact) {
	for {
		_, data, err := c.ws.ReadMessage()
		now := time.Now()
		if err != nil {
			if !e.closing.Load() {
				e.errs.add("contact connection lost", err)
			}
			return
		}
		var f inFrame
		if json.Unmarshal(data, &f) != nil {
			e.errs.add("unreadable frame", nil)
			continue
		}
		c.mu.Lock()
		w := c.w
		switch f.Type {
		case "error":
			e.errs.add("error frame", errors.New(errorText(data)))
		case "ack":
			if w != nil && f.ClientKey == w.key {
				if w.mySeq == 0 {
					w.mySeq = f.Seq
				}
				select {
				case <-w.acked:
				default:
					e.record(&e.ackLat, now.Sub(w.sent))
					e.acked.Add(1)
					close(w.acked)
				}
			}
		case "message":
			var m msgObject
			if w == nil || json.Unmarshal(f.Message, &m) != nil {
				break
			}
			wantBot := !w.ackOnly && w.agentText == "" && w.mySeq > 0 && m.Seq > w.mySeq && m.Sender.Type == "bot"
			switch {
			case m.Sender.Type == "contact" && m.ClientKey == w.key:
				w.mySeq = m.Seq
			case wantBot && m.Metadata["skipBot"] == "true":
				// The platform's notice that the bot failed, posted in
				// the bot's name: not a reply.
				e.errs.add("bot failure notice", errors.New(m.Text))
				select {
				case w.reply <- time.Time{}: // ends the wait, unmeasured
				default:
				}
			case wantBot && e.isBotReply(w, m.Text),
				w.agentText != "" && m.Sender.Type == "agent" && m.Text == w.agentText:
				select {
				case w.reply <- now:
				default:
				}
			}
		}
		c.mu.Unlock()
	}
}

func (c *contact) await(w *waiter) {
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
}

// drive is one contact's loop: a turn every interval (from offset) until
// run ends. A turn starts only when the previous one is over; the ticks it
// missed are counted as skipped. The first turn is with the bot; a handoff
// contact then asks for a person, and its later turns are with the agent
// who took over. ctx (the whole run's) bounds the waits of the last turn.
func (e *e2e) drive(run, ctx context.Context, c *contact, offset, interval time.Duration) {
	start := time.Now().Add(offset)
	agentID := ""
	for k := int64(0); ; k++ {
		next := start.Add(time.Duration(k) * interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-run.Done():
				return
			case <-time.After(d):
			}
		} else if run.Err() != nil {
			return
		} else if late := -d; late > interval {
			skip := int64(late / interval)
			e.skipped.Add(skip)
			k += skip
		}
		if agentID == "" {
			if !e.botTurn(ctx, c, k) {
				continue
			}
			if c.handoff {
				agentID = e.handOff(ctx, c)
				if agentID == "" {
					return // the error is counted; nothing more to do here
				}
			}
			continue
		}
		e.agentTurn(ctx, c, k, agentID)
	}
}

func (e *e2e) key(c *contact, k int64) string {
	return "b-" + e.run + "-" + strconv.Itoa(c.i) + "-" + strconv.FormatInt(k, 10)
}

// send makes w what the contact awaits and writes its message; the
// caller waits for the ack and the reply.
func (e *e2e) send(c *contact, w *waiter, text string) bool {
	// Set before the reader can see w; it reads them under c.mu.
	w.text, w.sent = text, time.Now()
	c.await(w)
	e.sent.Add(1)
	if err := writeJSON(c.ws, sendFrame{Type: "send", ConversationID: c.conv, ClientKey: w.key, Text: text}); err != nil {
		e.errs.add("send failed", err)
		return false
	}
	return true
}

func (e *e2e) wait(ctx context.Context, ch <-chan struct{}, kind string) bool {
	t := time.NewTimer(e.cfg.Timeout)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		e.errs.add(kind, nil)
	case <-ctx.Done():
	}
	return false
}

func (e *e2e) waitReply(ctx context.Context, w *waiter, kind string, l *latencies, from time.Time) bool {
	t := time.NewTimer(e.cfg.Timeout)
	defer t.Stop()
	select {
	case at := <-w.reply:
		if at.IsZero() {
			return false // counted where it was seen
		}
		e.record(l, at.Sub(from))
		return true
	case <-t.C:
		e.errs.add(kind, nil)
	case <-ctx.Done():
	}
	return false
}

func (e *e2e) botTurn(ctx context.Context, c *contact, k int64) bool {
	w := newWaiter(e.key(c, k))
	text := lexUtterance
	if e.cfg.Bot == "webhook" {
		text = e.mark.text(k, time.Now())
	}
	ok := e.send(c, w, text) &&
		e.waitReply(ctx, w, "bot reply timed out", &e.botLat, w.sent) &&
		e.wait(ctx, w.acked, "send not acked")
	c.await(nil)
	e.turns.Add(1)
	return ok
}

// agentTurn: the contact writes, and once it is stored the agent answers
// over REST, as the dashboard does.
func (e *e2e) agentTurn(ctx context.Context, c *contact, k int64, agentID string) {
	w := newWaiter(e.key(c, k))
	w.ackOnly = true
	if !e.send(c, w, e.mark.text(k, time.Now())) || !e.wait(ctx, w.acked, "send not acked") {
		c.await(nil)
		return
	}
	r := newWaiter(w.key + "-agent")
	r.agentText = "agent " + e.mark.text(k, time.Now())
	c.await(r)
	a := e.hub.agent(agentID)
	t0 := time.Now()
	err := e.api(ctx, a.node, "POST", "/api/v1/conversations/"+url.PathEscape(c.conv)+"/messages",
		map[string]any{"text": r.agentText, "clientKey": r.key, "sender": map[string]string{"type": "agent", "id": agentID}}, nil)
	if err != nil {
		e.errs.add("agent send failed", err)
	} else {
		e.waitReply(ctx, r, "agent reply timed out", &e.agentLat, t0)
	}
	c.await(nil)
	e.turns.Add(1)
}

// handOff asks for a person as the widget's button does, waits for an
// agent's socket to be told, and has that agent (or, when the conversation
// queued for nobody in particular, one of ours) take it over. It returns
// the agent's id, or "" after counting an error.
func (e *e2e) handOff(ctx context.Context, c *contact) string {
	hw := e.hub.await(c.conv)
	t0 := time.Now()
	if _, err := doJSON(ctx, c.http, "POST", e.node(c.node), "/api/v1/conversations/"+url.PathEscape(c.conv)+"/talk-to-human", c.tokenHeader(), nil, nil); err != nil {
		e.errs.add("talk-to-human failed", err)
		return ""
	}
	t := time.NewTimer(e.cfg.Timeout)
	defer t.Stop()
	var n notice
	select {
	case n = <-hw.done:
	case <-t.C:
		e.errs.add("agent not notified", nil)
		return ""
	case <-ctx.Done():
		return ""
	}
	e.record(&e.hub.lat, n.at.Sub(t0))
	agentID := n.assignee
	if e.hub.agent(agentID) == nil {
		agentID = e.agents[c.i%len(e.agents)].id
	}
	a := e.hub.agent(agentID)
	if err := e.api(ctx, a.node, "POST", "/api/v1/conversations/"+url.PathEscape(c.conv)+"/takeover", map[string]string{"agentId": agentID}, nil); err != nil {
		e.errs.add("takeover failed", err)
		return ""
	}
	return agentID
}

// collect turns the run's counters into the result.
func (e *e2e) collect(r *E2EResult, window time.Duration) {
	e.mu.Lock()
	r.BotReply = toLatency(e.botLat.summarize())
	r.AgentReply = toLatency(e.agentLat.summarize())
	r.Ack = toLatency(e.ackLat.summarize())
	e.mu.Unlock()
	e.hub.mu.Lock()
	r.Handoff = toLatency(e.hub.lat.summarize())
	e.hub.mu.Unlock()
	r.Sent, r.Acked, r.Skipped, r.Turns = e.sent.Load(), e.acked.Load(), e.skipped.Load(), e.turns.Load()
	r.Throughput = perSec(r.Acked, window)
	r.Errors, r.FirstErrors = e.errs.snapshot()
}
