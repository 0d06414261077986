package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/localrun"
)

// faultyLink stands between the node and its Lex endpoint. It passes
// traffic through until told to fail, and then fails the way a network
// does: either it accepts connections and never answers (a blackhole), or
// it stops listening (connections are refused).
type faultyLink struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	blackhole bool
	conns     map[net.Conn]struct{}
}

func newFaultyLink(t *testing.T, target string) *faultyLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &faultyLink{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go l.serve()
	t.Cleanup(l.refuse)
	return l
}

func (l *faultyLink) url() string { return "http://" + l.ln.Addr().String() }

func (l *faultyLink) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		l.conns[c] = struct{}{}
		hole := l.blackhole
		l.mu.Unlock()
		if hole {
			// Read and drop whatever comes, answer nothing.
			go func() { _, _ = io.Copy(io.Discard, c) }()
			continue
		}
		go l.pass(c)
	}
}

func (l *faultyLink) pass(c net.Conn) {
	up, err := net.Dial("tcp", l.target)
	if err != nil {
		c.Close()
		return
	}
	l.mu.Lock()
	l.conns[up] = struct{}{}
	l.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// cut drops every open connection, so that the node's pooled connections
// fail too, not only its new ones.
func (l *faultyLink) cut() {
	for c := range l.conns {
		c.Close()
		delete(l.conns, c)
	}
}

func (l *faultyLink) startBlackhole() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.blackhole = true
	l.cut()
}

func (l *faultyLink) refuse() {
	l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut()
}

// Lex becomes unreachable, first silent (connections accepted, never
// answered), then refusing connections. Every conversation whose contact
// wrote meanwhile is handed to people within the turn's deadline, with the
// reason recorded; none is left waiting on the bot.
func TestChaosLexUnreachable(t *testing.T) {
	bot, err := demobot.Load()
	if err != nil {
		t.Fatal(err)
	}
	const region, keyID, secret = "eu-west-1", "AKIACHAOSTEST0001", "chaos/test+secret"
	rt, err := localrun.Start(localrun.Options{Addr: "127.0.0.1:0", Bots: []*export.Bot{bot}, Region: region, AccessKeyID: keyID, SecretAccessKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
	})
	link := newFaultyLink(t, rt.URL[len("http://"):])

	n := startNode(t, map[string]string{
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
		"SWITCHBOARD_LOG_LEVEL":         "warn",
	})
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	api.do("POST", "/api/v1/bots", map[string]any{
		"name": "Lex", "type": "lex", "autoHandoff": true, "handleAllNewConversations": true,
		"lex": map[string]any{"region": region, "botId": demobot.ID, "botAliasId": "TSTALIASID", "locales": []string{"en_US"},
			"accessKeyId": keyID, "secretAccessKey": secret, "endpoint": link.url()},
	}, http.StatusCreated, nil)

	// Conversations with the bot, each welcomed while Lex was healthy.
	const perFault = 3
	convs := make([]string, 2*perFault)
	for i := range convs {
		var c conversation
		api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": fmt.Sprint("lex-chaos-", i), "language": "en-US"}}, http.StatusCreated, &c)
		if c.Assignee == nil || c.Assignee.Type != "bot" {
			t.Fatalf("conversation %d is not with the bot: %+v", i, c)
		}
		convs[i] = c.ID
	}
	for _, id := range convs {
		waitForBot(t, api, id, 0)
	}

	limit := turn.DefaultDeadline + 5*time.Second
	// hit sends a message in each conversation and requires each to be
	// handed off within limit, returning how long each took.
	hit := func(fault string, ids []string) []time.Duration {
		t.Helper()
		sent := make([]time.Time, len(ids))
		for i, id := range ids {
			api.do("POST", "/api/v1/conversations/"+id+"/messages", map[string]any{"text": "where is my order?", "sender": map[string]string{"type": "contact"}}, http.StatusCreated, nil)
			sent[i] = time.Now()
		}
		// Handed off: no longer with the bot, and the handoff and its
		// reason recorded (just after the assignment, by the same turn).
		took := make([]time.Duration, len(ids))
		for i, id := range ids {
			var reason string
			for took[i] == 0 || reason == "" {
				if took[i] == 0 {
					var c conversation
					api.do("GET", "/api/v1/conversations/"+id, nil, http.StatusOK, &c)
					if c.Assignee == nil || c.Assignee.Type != "bot" {
						took[i] = time.Since(sent[i]).Round(time.Millisecond)
					}
				}
				if took[i] != 0 {
					var bc struct {
						LastHandoff *struct {
							Reason string `json:"reason"`
						} `json:"lastHandoff"`
					}
					api.do("GET", "/api/v1/conversations/"+id+"/bot-context", nil, http.StatusOK, &bc)
					if bc.LastHandoff != nil {
						reason = bc.LastHandoff.Reason
						break
					}
				}
				if time.Since(sent[i]) > limit {
					t.Fatalf("%s: conversation %s not handed off %v after the contact wrote (assigned away after %v)", fault, id, limit, took[i])
				}
				time.Sleep(50 * time.Millisecond)
			}
			if reason != string(chat.HandoffBotFailed) {
				t.Fatalf("%s: conversation %s handed off with reason %q, want %s", fault, id, reason, chat.HandoffBotFailed)
			}
		}
		return took
	}
	link.startBlackhole()
	silent := hit("Lex silent", convs[:perFault])
	link.refuse()
	refused := hit("Lex refusing connections", convs[perFault:])

	t.Logf("handoff after the contact's message, Lex silent: %v; Lex refusing connections: %v (turn deadline %v)", silent, refused, turn.DefaultDeadline)
	t.Logf("checked: %d conversations, every one handed off within %v with reason %s", len(convs), limit, chat.HandoffBotFailed)
}
