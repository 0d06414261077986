package loadtest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/server"
)

// TestRoomsHaveNoBot checks that the conversations bench ws loads are left
// unassigned on a node where routing gives new conversations to a bot (a
// fresh SQLite node with the demo bot), so that the delivery figure never
// includes bot turns. The same node is first shown to route an ordinary
// new conversation to the bot, or the check would prove nothing.
func TestRoomsHaveNoBot(t *testing.T) {
	const key = "bench-key-0123456789abcdefghij"
	env := map[string]string{
		"SWITCHBOARD_ADDR":              "127.0.0.1:0",
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY": key,
		"SWITCHBOARD_ADMIN_EMAIL":       "owner@example.com",
		"SWITCHBOARD_ADMIN_PASSWORD":    "owner-password",
		"SWITCHBOARD_DEMO":              "true",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := server.New(ctx, cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: io.Discard, Passwords: auth.TestParams})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	sb, err := newSwitchboard([]string{hs.URL}, key, sources{})
	if err != nil {
		t.Fatal(err)
	}

	type conversation struct {
		ID       string `json:"id"`
		Assignee *struct {
			Type string `json:"type"`
		} `json:"assignee"`
	}
	var routed conversation
	if err := sb.call(ctx, "POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": "routed"}}, &routed); err != nil {
		t.Fatal(err)
	}
	if routed.Assignee == nil || routed.Assignee.Type != "bot" {
		t.Fatalf("control: a routed conversation's assignee is %+v, want the demo bot", routed.Assignee)
	}

	rooms, err := sb.prepare(ctx, 3, "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		var c conversation
		if err := sb.call(ctx, "GET", "/api/v1/conversations/"+r.id, nil, &c); err != nil {
			t.Fatal(err)
		}
		if c.Assignee != nil {
			t.Errorf("conversation %s of the load has assignee %+v, want none", r.id, *c.Assignee)
		}
	}
}
