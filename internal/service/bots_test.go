package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
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
	// New settings clear a status that described the old ones.
	if err := f.env.Store.SetBotStatus(f.ctx, v.Bot.AppID, v.Bot.ID, chat.BotStatusCredentialsInvalid, "the bot answered 401"); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Webhook: webhookJSON("https://bot.example.com/v2", "Authorization", webhookbot.RedactedValue)})
	if err != nil || got.Bot.Status != chat.BotStatusOK || got.Bot.StatusDetail != "" {
		t.Fatalf("status after new settings: %+v, %v", got, err)
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
		{service.NewBot{Name: "X", Type: chat.BotLex}, "lex"},
		{service.NewBot{Name: "X", Type: chat.BotLex, Webhook: webhookJSON("https://x.example", "", "")}, "webhook"},
		{service.NewBot{Name: "X", Type: chat.BotWebhook, Webhook: webhookJSON("https://x.example", "", ""), Lex: json.RawMessage(`{"region":"eu-west-1"}`)}, "lex"},
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

// lexFixture is a service whose Lex bots talk to a real local runtime with
// the real SDK, with every log line captured.
type lexFixture struct {
	*botFixture
	srv lexlocaltest.Server
}

func newLexFixture(t *testing.T) *lexFixture {
	t.Helper()
	logs := &lockedBuffer{}
	env := servicetest.New(t, func(o *service.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.LexSetup = lexbot.NewSetup(lexbot.SetupOptions{CallTimeout: 500 * time.Millisecond})
	})
	ctx := context.Background()
	admin, err := env.Service.AuthenticateAPIKey(ctx, bootstrapKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &lexFixture{botFixture: &botFixture{fixture: &fixture{svc: env.Service, admin: admin, ctx: ctx}, env: env, logs: logs}, srv: lexlocaltest.Start(t, lexlocaltest.Brain)}
	t.Cleanup(func() {
		for _, secret := range []string{f.srv.SecretAccessKey, f.srv.RestrictedSecretAccessKey} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a secret reached the logs")
			}
		}
	})
	return f
}

// lexJSON is a "lex" settings object for the fixture's runtime; edit
// changes fields (a nil value removes one).
func (f *lexFixture) lexJSON(edit map[string]any) json.RawMessage {
	m := map[string]any{
		"region": f.srv.Region, "botId": lexlocaltest.OrderBotID, "botAliasId": lexlocaltest.ProdAliasID,
		"accessKeyId": f.srv.AccessKeyID, "secretAccessKey": f.srv.SecretAccessKey, "endpoint": f.srv.URL,
	}
	for k, v := range edit {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// connectorSettings reads what the bot-turn pipeline gets, parsed as the
// connector parses it: strictly.
func (f *lexFixture) connectorSettings(t *testing.T, botID string) lexbot.Settings {
	t.Helper()
	b, err := f.svc.BotSettings(f.ctx, f.admin.AppID, botID)
	if err != nil {
		t.Fatal(err)
	}
	var ls lexbot.Settings
	if err := bot.DecodeSettings(b.Settings, "lex", &ls); err != nil {
		t.Fatalf("connector settings %v", err)
	}
	if err := ls.Validate(); err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestLexBotCreateResolvesNamesAndSealsTheSecret(t *testing.T) {
	f := newLexFixture(t)
	v, err := f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "Lexi", Type: chat.BotLex, AutoHandoff: true, HandleAllNewConversations: true,
		Lex: f.lexJSON(map[string]any{"botId": "OrderBot", "botAliasId": "prod", "defaultLocale": "en_US", "maxConsecutiveFallbacks": 0})})
	if err != nil {
		t.Fatal(err)
	}
	l := v.Lex
	if l == nil || l.BotID != lexlocaltest.OrderBotID || l.BotAliasID != lexlocaltest.ProdAliasID || !slices.Equal(l.Locales, []string{"de_DE", "en_US"}) ||
		l.SecretAccessKey != lexbot.RedactedValue || l.AccessKeyID != f.srv.AccessKeyID || l.Fallbacks() != 0 {
		t.Fatalf("created view = %+v", l)
	}
	if v.Webhook != nil || v.Bot.Status != chat.BotStatusOK || !v.HandleAll || v.Bot.Settings != nil {
		t.Fatalf("created bot = %+v", v)
	}

	raw, err := f.env.Store.GetBot(f.ctx, v.Bot.AppID, v.Bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Settings, []byte(f.srv.SecretAccessKey)) || !bytes.Contains(raw.Settings, []byte(`"sealedSecretAccessKey"`)) {
		t.Fatalf("stored settings hold the secret in clear: %s", raw.Settings)
	}

	got, err := f.svc.GetBot(f.ctx, f.admin, v.Bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lex == nil || got.Lex.SecretAccessKey != lexbot.RedactedValue || !slices.Equal(got.Lex.Locales, l.Locales) || got.Lex.DefaultLocale != "en_US" {
		t.Fatalf("read view = %+v", got.Lex)
	}
	list, err := f.svc.ListBots(f.ctx, f.admin)
	if err != nil || len(list) != 1 || list[0].Lex == nil || list[0].Lex.SecretAccessKey != lexbot.RedactedValue {
		t.Fatalf("ListBots = %+v, %v", list, err)
	}

	ls := f.connectorSettings(t, v.Bot.ID)
	if ls.SecretAccessKey != f.srv.SecretAccessKey || ls.BotID != lexlocaltest.OrderBotID || !slices.Equal(ls.Locales, []string{"de_DE", "en_US"}) || ls.Endpoint != f.srv.URL {
		t.Fatalf("connector settings = %+v", ls.Redacted())
	}

	// A row written by other code with the secret unsealed still never
	// shows it.
	plain := chat.Bot{AppID: f.admin.AppID, Type: chat.BotLex, Name: "Seeded", Enabled: true, Settings: f.lexJSON(nil)}
	if err := f.env.Store.CreateBot(f.ctx, &plain); err != nil {
		t.Fatal(err)
	}
	seeded, err := f.svc.GetBot(f.ctx, f.admin, plain.ID)
	if err != nil || seeded.Lex.SecretAccessKey != lexbot.RedactedValue {
		t.Fatalf("unsealed row view = %+v, %v", seeded, err)
	}
	if ls := f.connectorSettings(t, plain.ID); ls.SecretAccessKey != f.srv.SecretAccessKey {
		t.Fatal("the connector lost an unsealed secret")
	}
}

// Every way Lex can refuse settings has its own code and message, and a
// refused create leaves nothing behind.
func TestLexBotCreateRefusals(t *testing.T) {
	f := newLexFixture(t)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	for _, tc := range []struct {
		name  string
		edit  map[string]any
		code  chat.Code
		field string
		words string
	}{
		{"wrong keys", map[string]any{"accessKeyId": "AKIAWRONGKEY00000000"}, chat.CodeLexCredentialsInvalid, "lex.accessKeyId", "check both keys"},
		{"wrong secret", map[string]any{"secretAccessKey": "not-the-secret"}, chat.CodeLexCredentialsInvalid, "lex.accessKeyId", "check both keys"},
		{"missing permission", map[string]any{"accessKeyId": f.srv.RestrictedAccessKeyID, "secretAccessKey": f.srv.RestrictedSecretAccessKey},
			chat.CodeLexPermissionDenied, "lex.accessKeyId", "AmazonLexReadOnly"},
		{"unknown bot", map[string]any{"botId": "NOSUCHBOT1"}, chat.CodeLexBotNotFound, "lex.botId", "no such bot"},
		{"unknown bot name", map[string]any{"botId": "Nobody"}, chat.CodeLexBotNotFound, "lex.botId", `"Nobody"`},
		{"unknown alias", map[string]any{"botAliasId": "NOSUCHALI1"}, chat.CodeLexAliasNotFound, "lex.botAliasId", "NOSUCHALI1"},
		{"unknown alias name", map[string]any{"botAliasId": "beta"}, chat.CodeLexAliasNotFound, "lex.botAliasId", `"beta"`},
		{"bad region", map[string]any{"region": "ap-nowhere-7"}, chat.CodeLexRegionInvalid, "lex.region", "ap-nowhere-7"},
		{"unreachable endpoint", map[string]any{"endpoint": closed}, chat.CodeLexEndpointUnreachable, "lex.endpoint", "could not reach"},
		{"default locale off on alias", map[string]any{"defaultLocale": "fr_FR"}, chat.CodeLexLocaleNotEnabled, "lex.defaultLocale", "fr_FR"},
		{"placeholder secret", map[string]any{"secretAccessKey": lexbot.RedactedValue}, chat.CodeInvalid, "lex.secretAccessKey", "placeholder"},
		{"unknown field", map[string]any{"sessionToken": "x"}, chat.CodeInvalid, "lex", "unknown field"},
		{"metadata endpoint", map[string]any{"endpoint": "http://169.254.169.254/latest"}, chat.CodeInvalid, "lex.endpoint", "link-local"},
		{"missing secret", map[string]any{"secretAccessKey": nil}, chat.CodeInvalid, "lex.secretAccessKey", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "Lexi", Type: chat.BotLex, Lex: f.lexJSON(tc.edit)})
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Details["field"] != tc.field || !strings.Contains(ce.Message, tc.words) {
				t.Fatalf("got %v, want %s on %s saying %q", err, tc.code, tc.field, tc.words)
			}
			for _, secret := range []string{f.srv.SecretAccessKey, f.srv.RestrictedSecretAccessKey, "not-the-secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatal("the error quotes the secret")
				}
			}
		})
	}
	if list, err := f.svc.ListBots(f.ctx, f.admin); err != nil || len(list) != 0 {
		t.Fatalf("refused creates left bots: %d, %v", len(list), err)
	}
}

func TestLexBotUpdate(t *testing.T) {
	f := newLexFixture(t)
	v, err := f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "Lexi", Type: chat.BotLex, Lex: f.lexJSON(nil)})
	if err != nil {
		t.Fatal(err)
	}
	// The form sent back as read (secret redacted) with another alias:
	// the secret is kept, the alias checked and its locales read.
	got, err := f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Lex: f.lexJSON(map[string]any{
		"secretAccessKey": lexbot.RedactedValue, "botAliasId": "TestBotAlias", "defaultLocale": "es_419"})})
	if err != nil {
		t.Fatal(err)
	}
	if got.Lex.BotAliasID != lexlocaltest.TestAliasID || !slices.Equal(got.Lex.Locales, []string{"en_US", "es_419"}) || got.Lex.SecretAccessKey != lexbot.RedactedValue {
		t.Fatalf("updated view = %+v", got.Lex)
	}
	if ls := f.connectorSettings(t, v.Bot.ID); ls.SecretAccessKey != f.srv.SecretAccessKey || ls.DefaultLocale != "es_419" {
		t.Fatalf("secret not kept: %+v", ls.Redacted())
	}
	before, err := f.env.Store.GetBot(f.ctx, v.Bot.AppID, v.Bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		patch service.BotPatch
		code  chat.Code
	}{
		{"placeholder under another key id", service.BotPatch{Lex: f.lexJSON(map[string]any{"secretAccessKey": lexbot.RedactedValue, "accessKeyId": "AKIAOTHERKEY00000000"})}, chat.CodeInvalid},
		{"alias Lex does not have", service.BotPatch{Lex: f.lexJSON(map[string]any{"secretAccessKey": lexbot.RedactedValue, "botAliasId": "NOSUCHALI1"})}, chat.CodeLexAliasNotFound},
		{"webhook settings on a Lex bot", service.BotPatch{Webhook: webhookJSON("https://x.example", "", "")}, chat.CodeInvalid},
		{"settings not an object", service.BotPatch{Lex: json.RawMessage(`[1]`)}, chat.CodeInvalid},
	} {
		_, err := f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, tc.patch)
		if chat.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	after, err := f.env.Store.GetBot(f.ctx, v.Bot.AppID, v.Bot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Settings, after.Settings) || after.Name != before.Name {
		t.Fatal("a refused update changed the bot")
	}
	// Another app's bot answers as unknown.
	other := f.otherAppAdmin(t)
	if _, err := f.svc.UpdateBot(f.ctx, other, v.Bot.ID, service.BotPatch{Lex: f.lexJSON(nil)}); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("foreign update: %v", err)
	}
	if _, err := f.svc.ValidateBot(f.ctx, other, v.Bot.ID); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("foreign validate: %v", err)
	}
}

// otherAppAdmin is an admin of a second app.
func (f *lexFixture) otherAppAdmin(t *testing.T) service.Actor {
	t.Helper()
	app := chat.App{Name: "Other"}
	if err := f.env.Store.CreateApp(f.ctx, &app); err != nil {
		t.Fatal(err)
	}
	return service.Actor{AppID: app.ID, Role: chat.RoleAdmin}
}

// The bot's status follows what Lex says: validation marks keys that stop
// working and settings that point nowhere, and a good save clears it.
func TestLexBotValidateSetsStatus(t *testing.T) {
	f := newLexFixture(t)
	v, err := f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "Lexi", Type: chat.BotLex, Lex: f.lexJSON(map[string]any{"botAliasId": lexlocaltest.TestAliasID})})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.ValidateBot(f.ctx, f.admin, v.Bot.ID)
	if err != nil || got.Bot.Status != chat.BotStatusOK || !slices.Equal(got.Lex.Locales, []string{"en_US", "es_419"}) {
		t.Fatalf("validate = %+v, %v", got, err)
	}

	// The access key id is stored in clear; changing it underneath the bot
	// is what a rotated-away key looks like to Switchboard.
	if _, err := f.env.Store.UpdateBot(f.ctx, v.Bot.AppID, v.Bot.ID, func(b *chat.Bot, _ *store.AppRules) error {
		b.Settings = bytes.Replace(b.Settings, []byte(f.srv.AccessKeyID), []byte("AKIAROTATEDAWAY00000"), 1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ValidateBot(f.ctx, f.admin, v.Bot.ID)
	wantCode(t, err, chat.CodeLexCredentialsInvalid)
	got, err = f.svc.GetBot(f.ctx, f.admin, v.Bot.ID)
	if err != nil || got.Bot.Status != chat.BotStatusCredentialsInvalid || !strings.Contains(got.Bot.StatusDetail, "check both keys") {
		t.Fatalf("after refused keys: %+v, %v", got.Bot, err)
	}

	// Retyping the keys repairs the bot.
	got, err = f.svc.UpdateBot(f.ctx, f.admin, v.Bot.ID, service.BotPatch{Lex: f.lexJSON(map[string]any{"botAliasId": lexlocaltest.TestAliasID})})
	if err != nil || got.Bot.Status != chat.BotStatusOK || got.Bot.StatusDetail != "" {
		t.Fatalf("after retyped keys: %+v, %v", got, err)
	}

	// A runtime that went away leaves the bot misconfigured.
	var gone lexlocaltest.Server
	var goneBot *service.BotView
	t.Run("runtime that goes away", func(t *testing.T) {
		gone = lexlocaltest.Start(t, lexlocaltest.Brain)
		var err error
		goneBot, err = f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "Gone", Type: chat.BotLex, Lex: f.lexJSON(map[string]any{
			"endpoint": gone.URL, "accessKeyId": gone.AccessKeyID, "secretAccessKey": gone.SecretAccessKey})})
		if err != nil {
			t.Fatal(err)
		}
	})
	_, err = f.svc.ValidateBot(f.ctx, f.admin, goneBot.Bot.ID)
	wantCode(t, err, chat.CodeLexEndpointUnreachable)
	got, err = f.svc.GetBot(f.ctx, f.admin, goneBot.Bot.ID)
	if err != nil || got.Bot.Status != chat.BotStatusMisconfigured || !strings.Contains(got.Bot.StatusDetail, gone.URL) {
		t.Fatalf("after lost runtime: %+v, %v", got.Bot, err)
	}

	// Webhook bots have nothing to validate against; agents may not ask.
	hook := f.newBot(t, service.NewBot{Name: "Hook"})
	_, err = f.svc.ValidateBot(f.ctx, f.admin, hook.Bot.ID)
	wantCode(t, err, chat.CodeInvalid)
	agent := f.agent(t, "agent-lex@example.com", chat.RoleAgent)
	_, err = f.svc.ValidateBot(f.ctx, agent, v.Bot.ID)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.ValidateBot(f.ctx, f.admin, "no$such")
	wantCode(t, err, chat.CodeNotFound)
}

func TestLexDiscover(t *testing.T) {
	f := newLexFixture(t)
	bots, err := f.svc.DiscoverLex(f.ctx, f.admin, lexbot.DiscoverInput{Region: f.srv.Region, AccessKeyID: f.srv.AccessKeyID, SecretAccessKey: f.srv.SecretAccessKey, Endpoint: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if len(bots) != 2 || bots[0].BotName != "OrderBot" || len(bots[0].Aliases) != 2 || bots[1].Aliases[0].BotAliasName != "live" ||
		!slices.Equal(bots[1].Aliases[0].Locales, []string{"en_GB"}) {
		t.Fatalf("DiscoverLex = %+v", bots)
	}
	_, err = f.svc.DiscoverLex(f.ctx, f.admin, lexbot.DiscoverInput{Region: f.srv.Region, AccessKeyID: f.srv.RestrictedAccessKeyID, SecretAccessKey: f.srv.RestrictedSecretAccessKey, Endpoint: f.srv.URL})
	wantCode(t, err, chat.CodeLexPermissionDenied)
	agent := f.agent(t, "agent-disc@example.com", chat.RoleAgent)
	_, err = f.svc.DiscoverLex(f.ctx, agent, lexbot.DiscoverInput{Region: f.srv.Region, AccessKeyID: f.srv.AccessKeyID, SecretAccessKey: f.srv.SecretAccessKey, Endpoint: f.srv.URL})
	wantCode(t, err, chat.CodeForbidden)
}

// A Lex turn that fails for a reason an admin must fix marks the bot; one
// that may heal by itself does not. The failures travel the real path: the
// connector, the SDK, the runtime.
func TestLexTurnFailureMarksBot(t *testing.T) {
	f := newLexFixture(t)
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	for _, tc := range []struct {
		name     string
		from, to string // a change to the stored settings after saving
		want     chat.BotStatus
	}{
		{"rotated key", f.srv.AccessKeyID, "AKIAROTATEDAWAY00000", chat.BotStatusCredentialsInvalid},
		{"alias deleted", `"` + lexlocaltest.ProdAliasID + `"`, `"NOSUCHALI1"`, chat.BotStatusMisconfigured},
		{"runtime down", `"` + f.srv.URL + `"`, `"` + closed + `"`, chat.BotStatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := f.svc.CreateBot(f.ctx, f.admin, service.NewBot{Name: "Lexi", Type: chat.BotLex, Lex: f.lexJSON(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.env.Store.UpdateBot(f.ctx, v.Bot.AppID, v.Bot.ID, func(b *chat.Bot, _ *store.AppRules) error {
				if !bytes.Contains(b.Settings, []byte(tc.from)) {
					t.Fatalf("stored settings lack %s", tc.from)
				}
				b.Settings = bytes.Replace(b.Settings, []byte(tc.from), []byte(tc.to), 1)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{
				Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: v.Bot.ID}, SkipRouting: true, Contact: service.ContactInput{Name: "C"},
			}); err != nil {
				t.Fatal(err)
			}
			turns, err := f.env.Store.ClaimBotTurns(f.ctx, "node-1", time.Minute, 10)
			if err != nil || len(turns) != 1 {
				t.Fatalf("claimed %d turns, %v", len(turns), err)
			}
			runner := turn.New(turn.Options{Connectors: map[chat.BotType]bot.Connector{chat.BotLex: lexbot.New(lexbot.Options{})}, Deadline: time.Second})
			if err := f.svc.RunBotTurn(f.ctx, service.BotRun{Turn: turns[0], Runner: runner, Lease: time.Minute}); err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.GetBot(f.ctx, f.admin, v.Bot.ID)
			if err != nil || got.Bot.Status != tc.want || (tc.want != chat.BotStatusOK) != (got.Bot.StatusDetail != "") {
				t.Fatalf("after the failed turn: %+v, %v", got.Bot, err)
			}
		})
	}
}
