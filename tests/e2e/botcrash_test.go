package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/server"
)

// embeddedEnv makes the test binary itself serve as a node (see TestMain).
// It stands in for the real binary where a test needs options that are not
// settings an operator should have, here a loopback webhook bot and a
// short bot-turn lease; it is still a separate process, so SIGKILL is real.
const embeddedEnv = "SWITCHBOARD_E2E_EMBEDDED"

// embeddedLease is short so that a killed node's turn is taken over
// quickly; the default (30 s) would make the test slow, not different.
const embeddedLease = time.Second

func runEmbedded() {
	cfg, err := config.Load(nil, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	srv, err := server.New(ctx, cfg, server.Options{AllowPrivateBots: true, BotLease: embeddedLease})
	if err == nil {
		if _, err = srv.Listen(); err == nil {
			err = srv.Serve(ctx)
		}
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func startEmbeddedNode(t *testing.T, env map[string]string) *node {
	t.Helper()
	n := &node{t: t, addr: freeAddr(t), exe: os.Args[0]}
	for k, v := range env {
		n.env = append(n.env, k+"="+v)
	}
	n.env = append(n.env, "SWITCHBOARD_ADDR="+n.addr, embeddedEnv+"=1")
	n.start()
	return n
}

// A node is killed while its bot is answering. Restarted, it takes the
// turn up again once the lease expires, and the contact gets the bot's
// answer exactly once.
func TestBotTurnSurvivesSIGKILL(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	entered := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			close(entered)
			// Mid-turn until the node dies and the connection drops.
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]map[string]any{{"message": "one: " + req.Message}, {"message": "two"}})
	}))
	defer hook.Close()

	env := map[string]string{
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
		"SWITCHBOARD_ADMIN_EMAIL":       "owner@example.com",
		"SWITCHBOARD_ADMIN_PASSWORD":    "owner-password-1",
		"SWITCHBOARD_LOG_LEVEL":         "warn",
	}
	n := startEmbeddedNode(t, env)
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var b struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/v1/bots", map[string]any{"name": "Slow", "type": "webhook", "webhook": map[string]any{"url": hook.URL, "timeoutSeconds": 30}}, http.StatusCreated, &b)
	var conv conversation
	api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"name": "Kim"}, "skipRouting": true, "skipBotEvent": true,
		"assignee": map[string]string{"type": "bot", "id": b.ID}}, http.StatusCreated, &conv)
	api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"text": "are you there", "sender": map[string]string{"type": "contact"}}, http.StatusCreated, nil)

	select {
	case <-entered:
	case <-time.After(15 * time.Second):
		t.Fatal("the bot was never called")
	}
	n.kill()
	n.start() // same data directory, same address

	botReplies := func() []string {
		var page struct {
			Messages []struct {
				Text   string `json:"text"`
				Sender struct {
					Type string `json:"type"`
				} `json:"sender"`
			} `json:"messages"`
		}
		api.do("GET", "/api/v1/conversations/"+conv.ID+"/messages", nil, http.StatusOK, &page)
		var out []string
		for _, m := range page.Messages {
			if m.Sender.Type == "bot" {
				out = append(out, m.Text)
			}
		}
		return out
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(botReplies()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the turn was not completed after the restart; bot replies: %q", botReplies())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Several more leases: a second run, if any, would have posted by now.
	time.Sleep(3 * embeddedLease)
	got := botReplies()
	if len(got) != 2 || got[0] != "one: are you there" || got[1] != "two" {
		t.Fatalf("bot replies = %q, want each once", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Fatalf("the bot was called %d times, want 2 (the killed run and the one after restart)", calls)
	}
}
