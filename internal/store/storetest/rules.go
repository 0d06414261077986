package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

func testBotUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.UpdateBot(ctx, w.app.ID, w.bot.ID, func(b *chat.Bot, _ *store.AppRules) error {
		b.Name, b.AvatarURL, b.Enabled, b.AutoHandoff = "Lexa", "https://example.com/a.png", false, true
		b.Settings = json.RawMessage(`{"region":"us-east-1"}`)
		// Identity is not the caller's to change.
		b.ID, b.AppID, b.Type = "other", "other", chat.BotWebhook
		return nil
	})
	must(t, err)
	if got.ID != w.bot.ID || got.AppID != w.app.ID || got.Type != chat.BotLex {
		t.Fatalf("UpdateBot changed identity: %+v", got)
	}
	read, err := s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if read.Name != "Lexa" || read.AvatarURL != "https://example.com/a.png" || read.Enabled || !read.AutoHandoff ||
		string(read.Settings) != `{"region":"us-east-1"}` || read.Type != chat.BotLex || !read.CreatedAt.Equal(w.bot.CreatedAt) {
		t.Fatalf("after UpdateBot: %+v", read)
	}

	// A failing fn writes nothing, neither bot nor rules.
	boom := errors.New("boom")
	_, err = s.UpdateBot(ctx, w.app.ID, w.bot.ID, func(b *chat.Bot, r *store.AppRules) error {
		b.Name = "never"
		r.Rules.BotRouting, r.Rules.HandleAllBotID = true, w.bot.ID
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateBot error = %v, want boom", err)
	}
	read, err = s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	rules, err := s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if read.Name != "Lexa" || rules.Rules.HandleAllBotID != "" {
		t.Fatalf("failed UpdateBot wrote: bot %+v rules %+v", read, rules.Rules)
	}

	// Another app's bot, or none, is not found.
	other := newWorld(t, s)
	noop := func(*chat.Bot, *store.AppRules) error { return nil }
	_, err = s.UpdateBot(ctx, w.app.ID, other.bot.ID, noop)
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.UpdateBot(ctx, w.app.ID, "missing", noop)
	wantCode(t, err, chat.CodeNotFound)
	ob, err := s.GetBot(ctx, other.app.ID, other.bot.ID)
	must(t, err)
	if ob.Name != "Lexi" {
		t.Fatalf("other app's bot changed: %+v", ob)
	}
}

func testBotDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	wantCode(t, s.DeleteBot(ctx, w.app.ID, other.bot.ID), chat.CodeNotFound)
	wantCode(t, s.DeleteBot(ctx, w.app.ID, "missing"), chat.CodeNotFound)

	// w.conv is open and assigned to the bot.
	wantCode(t, s.DeleteBot(ctx, w.app.ID, w.bot.ID), chat.CodeConflict)
	_, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		c.Status = chat.StatusResolved
		return nil
	})
	must(t, err)

	// The rules that name it stop naming it.
	_, err = s.UpdateBot(ctx, w.app.ID, w.bot.ID, func(_ *chat.Bot, r *store.AppRules) error {
		r.Rules.BotRouting, r.Rules.HandleAllBotID = true, w.bot.ID
		return nil
	})
	must(t, err)
	on, id := true, w.bot.ID
	must(t, s.PutTeamRules(ctx, w.app.ID, w.team.ID, store.TeamRules{Override: chat.RulesOverride{BotRouting: &on, HandleAllBotID: &id}}))

	must(t, s.DeleteBot(ctx, w.app.ID, w.bot.ID))
	_, err = s.GetBot(ctx, w.app.ID, w.bot.ID)
	wantCode(t, err, chat.CodeNotFound)
	wantCode(t, s.DeleteBot(ctx, w.app.ID, w.bot.ID), chat.CodeNotFound)
	app, err := s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if app.Rules.BotRouting || app.Rules.HandleAllBotID != "" {
		t.Fatalf("app rules still route to the deleted bot: %+v", app.Rules)
	}
	team, err := s.GetTeamRules(ctx, w.app.ID, w.team.ID)
	must(t, err)
	if o := team.Override; o.HandleAllBotID != nil || o.BotRouting == nil || *o.BotRouting {
		t.Fatalf("team rules still route to the deleted bot: %+v", o)
	}
	if _, err := s.GetBot(ctx, other.app.ID, other.bot.ID); err != nil {
		t.Fatalf("other app's bot: %v", err)
	}
}

func testAppRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if got.Rules.Mode != chat.DefaultRules().Mode || got.Rules.DefaultLanguage != "en" || got.Hours.Zone != "" || len(got.Hours.Weekly) != 0 {
		t.Fatalf("rules before any write = %+v, want the defaults", got)
	}
	_, err = s.GetAppRules(ctx, "missing")
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.UpdateAppRules(ctx, "missing", func(*store.AppRules) error { return nil })
	wantCode(t, err, chat.CodeNotFound)

	want := store.AppRules{
		Rules: chat.Rules{Mode: chat.ModeAutomatic, DefaultAgentID: w.agent.ID, QueueWhenNobody: true,
			AutoResolveAfter: 30 * time.Minute, MaxConcurrentChats: 3, DefaultLanguage: "pt-BR",
			Welcome: map[string]string{"en": "Hi", "pt-BR": "Olá"}},
		Hours: store.Hours{Zone: "Europe/Lisbon", Weekly: map[time.Weekday][]chat.TimeRange{
			time.Friday: {{Start: 22 * 60, End: 6 * 60}}, time.Monday: {{Start: 9 * 60, End: chat.EndOfDay}}}},
	}
	_, err = s.UpdateAppRules(ctx, w.app.ID, func(r *store.AppRules) error { *r = want; return nil })
	must(t, err)
	got, err = s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Fatalf("GetAppRules = %s\nwant %s", a, b)
	}
	other := newWorld(t, s)
	og, err := s.GetAppRules(ctx, other.app.ID)
	must(t, err)
	if og.Rules.Mode != chat.ModeNotifyEverybody {
		t.Fatalf("another app's rules changed: %+v", og)
	}

	// A failing fn writes nothing.
	boom := errors.New("boom")
	_, err = s.UpdateAppRules(ctx, w.app.ID, func(r *store.AppRules) error { r.Rules.Mode = chat.ModeNotifyEverybody; return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	got, err = s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if got.Rules.Mode != chat.ModeAutomatic {
		t.Fatalf("failed update wrote: %+v", got.Rules)
	}
}

func testTeamRules(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	got, err := s.GetTeamRules(ctx, w.app.ID, w.team.ID)
	must(t, err)
	if mustJSON(t, got) != mustJSON(t, store.TeamRules{}) {
		t.Fatalf("team rules before any write = %+v, want empty", got)
	}
	_, err = s.GetTeamRules(ctx, w.app.ID, other.team.ID)
	wantCode(t, err, chat.CodeNotFound)
	wantCode(t, s.PutTeamRules(ctx, w.app.ID, other.team.ID, store.TeamRules{}), chat.CodeNotFound)
	wantCode(t, s.PutTeamRules(ctx, w.app.ID, "missing", store.TeamRules{}), chat.CodeNotFound)

	off, mode := false, chat.ModeAutomatic
	want := store.TeamRules{
		Override: chat.RulesOverride{BotRouting: &off, Mode: &mode, Away: map[string]string{"en": "Closed"}},
		Hours:    &store.Hours{Zone: "America/Sao_Paulo", Weekly: map[time.Weekday][]chat.TimeRange{time.Tuesday: {{Start: 8 * 60, End: 12 * 60}, {Start: 13 * 60, End: 18 * 60}}}},
	}
	must(t, s.PutTeamRules(ctx, w.app.ID, w.team.ID, want))
	got, err = s.GetTeamRules(ctx, w.app.ID, w.team.ID)
	must(t, err)
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Fatalf("GetTeamRules = %s\nwant %s", a, b)
	}
	// The team's row is not the app's.
	app, err := s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if app.Rules.Mode != chat.ModeNotifyEverybody || app.Hours.Zone != "" {
		t.Fatalf("team write changed the app's rules: %+v", app)
	}
	// Replacing clears what the new override leaves out.
	must(t, s.PutTeamRules(ctx, w.app.ID, w.team.ID, store.TeamRules{}))
	got, err = s.GetTeamRules(ctx, w.app.ID, w.team.ID)
	must(t, err)
	if got.Hours != nil || got.Override.Mode != nil {
		t.Fatalf("after replace: %+v", got)
	}
}

// testHandleAllOnePerApp moves the handle-all mark between two bots from
// many goroutines at once: whoever wins, exactly one bot holds it, and the
// other app is untouched.
func testHandleAllOnePerApp(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	b2 := chat.Bot{AppID: w.app.ID, Type: chat.BotWebhook, Name: "Hook", Enabled: true}
	must(t, s.CreateBot(ctx, &b2))
	set := func(id string) error {
		_, err := s.UpdateBot(ctx, w.app.ID, id, func(_ *chat.Bot, r *store.AppRules) error {
			r.Rules.BotRouting, r.Rules.HandleAllBotID = true, id
			return nil
		})
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		id := w.bot.ID
		if i%2 == 1 {
			id = b2.ID
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs <- set(id) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	r, err := s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if !r.Rules.BotRouting || (r.Rules.HandleAllBotID != w.bot.ID && r.Rules.HandleAllBotID != b2.ID) {
		t.Fatalf("after concurrent moves: %+v", r.Rules)
	}
	must(t, set(b2.ID))
	r, err = s.GetAppRules(ctx, w.app.ID)
	must(t, err)
	if r.Rules.HandleAllBotID != b2.ID {
		t.Fatalf("handle-all bot = %q, want %q", r.Rules.HandleAllBotID, b2.ID)
	}
	or, err := s.GetAppRules(ctx, other.app.ID)
	must(t, err)
	if or.Rules.BotRouting || or.Rules.HandleAllBotID != "" {
		t.Fatalf("other app's rules changed: %+v", or.Rules)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}
