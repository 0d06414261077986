package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/email/smtptest"
	"github.com/switchboard-chat/switchboard/internal/service"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startEmailNode starts a node with extra environment and returns it
// serving, with its log.
func startEmailNode(t *testing.T, extra map[string]string) (*Server, *lockedBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{
		"SWITCHBOARD_ADDR":           addr,
		"SWITCHBOARD_DATA_DIR":       t.TempDir(),
		"SWITCHBOARD_DEMO":           "false",
		"SWITCHBOARD_ADMIN_PASSWORD": "email-test-password",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, Options{
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		Out:        io.Discard,
		Passwords:  auth.TestParams,
		EmailEvery: 50 * time.Millisecond,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if _, err := srv.Listen(); err != nil {
		cancel()
		srv.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the node did not stop")
		}
	})
	return srv, logs
}

// With no SMTP relay configured (the default), no email sweeper runs.
func TestEmailOffByDefault(t *testing.T) {
	srv, logs := startEmailNode(t, nil)
	t.Logf("email sweeper: %v", srv.email)
	if srv.email != nil {
		t.Fatal("an email sweeper was built without SWITCHBOARD_SMTP_ADDR")
	}
	if strings.Contains(logs.String(), "fallback emails on") {
		t.Fatal("the node says fallback emails are on")
	}
}

// A node with a relay sends an agent's unread reply to the contact and a
// digest to the offline agent, once each, and never logs the password.
func TestEmailFallbackEndToEnd(t *testing.T) {
	relay := smtptest.Start(t, smtptest.WithUser("mailer", "relay-password-123"))
	srv, logs := startEmailNode(t, map[string]string{
		"SWITCHBOARD_SMTP_ADDR":                 relay.Addr,
		"SWITCHBOARD_SMTP_USER":                 "mailer",
		"SWITCHBOARD_SMTP_PASSWORD":             "relay-password-123",
		"SWITCHBOARD_SMTP_FROM":                 "Support <support@example.test>",
		"SWITCHBOARD_EMAIL_UNREAD_AFTER":        "300ms",
		"SWITCHBOARD_EMAIL_AGENT_OFFLINE_AFTER": "300ms",
	})
	ctx := context.Background()
	owner, err := srv.store.AgentByEmail(ctx, config.DefaultAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	start := func(name, addr string) *chat.Conversation {
		ct := chat.Contact{AppID: service.DefaultAppID, Name: name, Email: addr}
		if err := srv.store.CreateContact(ctx, &ct); err != nil {
			t.Fatal(err)
		}
		c := chat.Conversation{AppID: service.DefaultAppID, ContactID: ct.ID, Status: chat.StatusOpen,
			Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: owner.ID}}
		if err := srv.store.CreateConversation(ctx, &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	post := func(c *chat.Conversation, from chat.Sender, text string) {
		if _, _, err := srv.store.AppendMessage(ctx, service.DefaultAppID, c.ID, chat.NewMessage{Sender: from, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	answered := start("Carla", "carla@example.test")
	post(answered, chat.Sender{Type: chat.SenderContact, ID: answered.ContactID}, "Do you ship to Porto?")
	post(answered, chat.Sender{Type: chat.SenderAgent, ID: owner.ID}, "Yes, in two days.")
	waiting := start("Dan", "")
	post(waiting, chat.Sender{Type: chat.SenderContact, ID: waiting.ContactID}, "Hello?")

	if got := relay.WaitFor(2, 30*time.Second); len(got) < 2 {
		t.Fatalf("%d emails after 30s, want 2", len(got))
	}
	time.Sleep(500 * time.Millisecond) // ten more sweeps: nothing more may go out
	msgs := relay.Messages()
	for _, m := range msgs {
		t.Logf("to %v (auth %q): %q", m.To, m.User, m.Subject())
	}
	if len(msgs) != 2 {
		t.Fatalf("%d emails, want 2 (the contact's and the agent's digest)", len(msgs))
	}
	byTo := map[string]string{}
	for _, m := range msgs {
		byTo[m.To[0]] = m.Text()
	}
	if !strings.Contains(byTo["carla@example.test"], "Yes, in two days.") {
		t.Errorf("contact email: %q", byTo["carla@example.test"])
	}
	if d := byTo[config.DefaultAdminEmail]; !strings.Contains(d, "Dan: 1 message") || strings.Contains(d, "Carla") {
		t.Errorf("agent digest: %q", d)
	}
	if !strings.Contains(logs.String(), "fallback emails on") || strings.Contains(logs.String(), "relay-password-123") {
		t.Errorf("log: announced=%v, password shown=%v", strings.Contains(logs.String(), "fallback emails on"), strings.Contains(logs.String(), "relay-password-123"))
	}
}
