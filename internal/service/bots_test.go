package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const hookSecret = "s3cr3t-header-value-0042"

type botFixture struct {
	*fixture
	env  *servicetest.Env
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func newBotFixture(t *testing.T) *botFixture {
	t.Helper()
	logs := &lockedBuffer{}
	env := servicetest.New(t, func(o *service.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	admin, err := env.Service.AuthenticateAPIKey(ctx, bootstrapKey)
	if err != nil {
		t.Fatal(err)
	}
	return &botFixture{fixture: &fixture{svc: env.Service, admin: admin, ctx: ctx}, env: env, logs: logs}
}

func webhookJSON(url, name, value string) json.RawMessage {
	m := map[string]any{"url": url}
	if name != "" {
		m["headerName"] = name
		m["headerValue"] = value
	}
	b, _ := json.Marshal(m)
	return b
}

func (f *botFixture) newBot(t *testing.T, in service.NewBot) *service.BotView {
	t.Helper()
	if in.Type == "" {
		in.Type = chat.BotWebhook
	}
	if in.Webhook == nil {
		in.Webhook = webhookJSON("https://bot.example.com/hook", "X-Api-Key", hookSecret)
	}
	v, err := f.svc.CreateBot(f.ctx, f.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBotSecretIsSealedAndRedacted(t *testing.T) {
	f := newBotFixture(t)
	v := f.newBot(t, service.NewBot{Name: "Hook", AutoHandoff: true})
	if v.Webhook == nil || v.Webhook.HeaderValue != webhookbot.RedactedValue || v.Webhook.HeaderName != "X-Api-Key" || v.Webhook.TimeoutSeconds != webhookbot.DefaultTimeoutSeconds {
		t.Fatalf("created view = %+v", v.Webhook)
	}
	if !v.Bot.Enabled || !v.Bot.AutoHandoff || v.HandleAll {
		t.Fatalf("created bot = %+v", v)
	}

	// At rest: the settings column does not hold the secret.
	raw, err := f.env.Store.GetBot(f.ctx, v.Bot.AppID, v.Bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Settings, []byte(hookSecret)) || !bytes.Contains(raw.Settings, []byte("sealedHeaderValue")) {
		t.Fatalf("stored settings hold the secret in clear: %s", raw.Settings)
	}
	// A ciphertext moved to another bot does not open there.
	other := f.newBot(t, service.NewBot{Name: "Other", Webhook: webhookJSON("https://bot.example.com/2", "", "")})
	if _, err := f.env.Store.UpdateBot(f.ctx, other.Bot.AppID, other.Bot.ID, func(b *chat.Bot, _ *store.AppRules) error {
		b.Settings = raw.Settings
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.BotSettings(f.ctx, other.Bot.AppID, other.Bot.ID)
	wantCode(t, err, chat.CodeInternal)

	// Reads never show it.
	for _, get := range []func() (*service.BotView, error){
		func() (*service.BotView, error) { return f.svc.GetBot(f.ctx, f.admin, v.Bot.ID) },
		func() (*service.BotView, error) {
			list, err := f.svc.ListBots(f.ctx, f.admin)
			for i := range list {
				if list[i].Bot.ID == v.Bot.ID {
					return &list[i], err
				}
			}
			return nil, err
		},
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if got.Webhook.HeaderValue != webhookbot.RedactedValue || got.Bot.Settings != nil {
			t.Fatalf("read view = %+v", got)
		}
	}

	// The engine gets it decrypted, in the connector's own form.
	b, err := f.svc.BotSettings(f.ctx, v.Bot.AppID, v.Bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := webhookbot.ParseSettings(b.Settings)
	if err != nil {
		t.Fatal(err)
	}
	if ws.HeaderValue != hookSecret || ws.URL != "https://bot.example.com/hook" {
		t.Fatalf("BotSettings = %+v", ws)
	}
	if strings.Contains(f.logs.String(), hookSecret) {
		t.Fatal("the secret reached the logs")
	}
}

func TestBotKeepSecret(t *testing.T) {
	f := newBotFixture(t)
	v := f.newBot(t, service.NewBot{Name: "Hook"})
	secretOf := func() string {
		b, err := f.svc.BotSettings(f.ctx, v.Bot.AppID, v.Bot.ID)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := webhookbot.ParseSettings(b.Settings)
		if err != nil {
			t.Fatal(err)
		}
		return ws.HeaderName + ":" + ws.HeaderValue + "@" + ws.URL
	}
	// Saving the form as read (redacted) keeps the secret.
	_, err := f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Webhook: webhookJSON("https://bot.example.com/v2", "X-Api-Key", webhookbot.RedactedValue)})
	if err != nil {
		t.Fatal(err)
	}
	if got := secretOf(); got != "X-Api-Key:"+hookSecret+"@https://bot.example.com/v2" {
		t.Fatalf("after redacted save: %s", got)
	}
	// Moving it to another header needs it retyped.
	_, err = f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Webhook: webhookJSON("https://bot.example.com/v2", "Authorization", webhookbot.RedactedValue)})
	wantCode(t, err, chat.CodeInvalid)
	// A new value replaces it.
	got, err := f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Webhook: webhookJSON("https://bot.example.com/v2", "Authorization", "Bearer new-one")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Webhook.HeaderValue != webhookbot.RedactedValue {
		t.Fatalf("update view = %+v", got.Webhook)
	}
	if s := secretOf(); s != "Authorization:Bearer new-one@https://bot.example.com/v2" {
		t.Fatalf("after new value: %s", s)
	}
	// Other fields leave the settings alone.
	name := "Renamed"
	if _, err := f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if s := secretOf(); s != "Authorization:Bearer new-one@https://bot.example.com/v2" {
		t.Fatalf("after rename: %s", s)
	}
	// A new bot cannot be created with the placeholder.
	_, err = f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "X", Type: chat.BotWebhook, Webhook: webhookJSON("https://bot.example.com", "X-Key", webhookbot.RedactedValue)})
	wantCode(t, err, chat.CodeInvalid)
}

func TestBotRolesAndValidation(t *testing.T) {
	f := newBotFixture(t)
	v := f.newBot(t, service.NewBot{Name: "Hook"})
	owner := f.agent(t, "owner2@example.com", chat.RoleAdmin)
	agent := f.agent(t, "agent@example.com", chat.RoleAgent)
	contact := service.ContactActor(f.admin.AppID, "c1")
	name := "x"

	_, err := f.svc.CreateBot(f.ctx, agent, service.NewBot{Name: "X", Type: chat.BotWebhook, Webhook: webhookJSON("https://x.example", "", "")})
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.UpdateBot(f.ctx, agent, v.Bot.ID, service.BotPatch{Name: &name})
	wantCode(t, err, chat.CodeForbidden)
	wantCode(t, f.svc.DeleteBot(f.ctx, agent, v.Bot.ID), chat.CodeForbidden)
	_, err = f.svc.GetBot(f.ctx, contact, v.Bot.ID)
	wantCode(t, err, chat.CodeForbidden)
	if _, err := f.svc.GetBot(f.ctx, agent, v.Bot.ID); err != nil {
		t.Fatalf("an agent reads bots: %v", err)
	}
	if _, err := f.svc.UpdateBot(f.ctx, owner, v.Bot.ID, service.BotPatch{Name: &name}); err != nil {
		t.Fatalf("an admin updates bots: %v", err)
	}

	for _, tc := range []struct {
		in    service.NewBot
		field string
	}{
		{service.NewBot{Type: chat.BotWebhook, Webhook: webhookJSON("https://x.example", "", "")}, "name"},
		{service.NewBot{Name: "X", Type: "carrier-pigeon", Webhook: webhookJSON("https://x.example", "", "")}, "type"},
		{service.NewBot{Name: "X", Type: chat.BotLex}, "type"},
		{service.NewBot{Name: "X", Type: chat.BotWebhook}, "webhook.url"},
		{service.NewBot{Name: "X", Type: chat.BotWebhook, Webhook: webhookJSON("ftp://x.example", "", "")}, "webhook.url"},
		{service.NewBot{Name: "X", Type: chat.BotWebhook, Webhook: webhookJSON("https://x.example", "Host", "v")}, "webhook.headerName"},
		{service.NewBot{Name: "X", Type: chat.BotWebhook, AvatarURL: "javascript:alert(1)", Webhook: webhookJSON("https://x.example", "", "")}, "avatarUrl"},
	} {
		_, err := f.svc.CreateBot(f.ctx, f.admin, tc.in)
		var ce *chat.Error
		if !errors.As(err, &ce) || ce.Code != chat.CodeInvalid || ce.Details["field"] != tc.field {
			t.Errorf("CreateBot(%+v) = %v, want invalid %s", tc.in, err, tc.field)
		}
	}
}

func TestBotHandleAllMovesAndDelete(t *testing.T) {
	f := newBotFixture(t)
	a := f.newBot(t, service.NewBot{Name: "A", HandleAllNewConversations: true})
	if !a.HandleAll {
		t.Fatalf("A = %+v", a)
	}
	b := f.newBot(t, service.NewBot{Name: "B"})
	on := true
	got, err := f.svc.UpdateBot(f.ctx, f.admin, b.Bot.ID, service.BotPatch{HandleAllNewConversations: &on})
	if err != nil || !got.HandleAll {
		t.Fatalf("B = %+v, %v", got, err)
	}
	ga, err := f.svc.GetBot(f.ctx, f.admin, a.Bot.ID)
	if err != nil || ga.HandleAll {
		t.Fatalf("A after B took the mark = %+v, %v", ga, err)
	}
	rules, err := f.svc.GetRules(f.ctx, f.admin)
	if err != nil || !rules.BotRouting || rules.HandleAllBotID != b.Bot.ID {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	// Clearing it on a bot that does not hold it changes nothing.
	off := false
	if _, err := f.svc.UpdateBot(f.ctx, f.admin, a.Bot.ID, service.BotPatch{HandleAllNewConversations: &off}); err != nil {
		t.Fatal(err)
	}
	if rules, _ := f.svc.GetRules(f.ctx, f.admin); rules.HandleAllBotID != b.Bot.ID {
		t.Fatalf("rules = %+v", rules)
	}

	// A bot holding an open conversation cannot be deleted.
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: b.Bot.ID}, SkipRouting: true, Contact: service.ContactInput{Name: "C"}})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.DeleteBot(f.ctx, f.admin, b.Bot.ID), chat.CodeConflict)
	if _, err := f.env.Store.UpdateConversation(f.ctx, conv.AppID, conv.ID, func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteBot(f.ctx, f.admin, b.Bot.ID); err != nil {
		t.Fatal(err)
	}
	if rules, _ := f.svc.GetRules(f.ctx, f.admin); rules.BotRouting || rules.HandleAllBotID != "" {
		t.Fatalf("rules after delete = %+v", rules)
	}
	_, err = f.svc.GetBot(f.ctx, f.admin, b.Bot.ID)
	wantCode(t, err, chat.CodeNotFound)
	_, err = f.svc.GetBot(f.ctx, f.admin, "bad$id")
	wantCode(t, err, chat.CodeNotFound)
}
