package botrun_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// A conversation the rules give to people opens with the app's welcome in
// the contact's language; one the rules give to a bot gets the bot's own
// greeting only, and one that queues gets the away message only.
func TestWelcomeMessagePerLanguage(t *testing.T) {
	en := newEnv(t, envOpts{}, echo)
	welcome := map[string]string{"en": "Hello! A person will be with you.", "pt": "Olá! Uma pessoa já vem falar consigo."}
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, Welcome: welcome, Away: map[string]string{"en": "Away."}}); err != nil {
		t.Fatal(err)
	}
	ana := en.agent("Ana")
	en.online(ana)
	texts := func(c *chat.Conversation) []string {
		var out []string
		for _, m := range en.messages(c) {
			out = append(out, m.Text)
		}
		return out
	}
	start := func(lang string) *chat.Conversation {
		c, err := en.svc.StartConversation(en.ctx, en.admin, service.NewConversation{Contact: service.ContactInput{Name: "V", Language: lang}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pt := start("pt-BR")
	if got := texts(pt); len(got) != 1 || got[0] != welcome["pt"] {
		t.Fatalf("pt-BR contact got %q", got)
	}
	m := en.messages(pt)[0]
	if m.Sender.Type != chat.SenderSystem || m.Metadata[chat.MetaSkipBot] != "true" {
		t.Fatalf("welcome = %+v", m)
	}
	if got := texts(start("de")); len(got) != 1 || got[0] != welcome["en"] {
		t.Fatalf("de contact got %q, want the English welcome", got)
	}

	// Nobody online: the queue's away message, and no welcome.
	if _, err := en.svc.SetPresence(en.ctx, en.admin, ana.AgentID, chat.PresenceAway); err != nil {
		t.Fatal(err)
	}
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true, Welcome: welcome, Away: map[string]string{"en": "Away."}}); err != nil {
		t.Fatal(err)
	}
	if got := texts(start("en")); len(got) != 1 || got[0] != "Away." {
		t.Fatalf("queued contact got %q", got)
	}

	// Bot routing: only the bot greets.
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, BotRouting: true, HandleAllBotID: en.botID, Welcome: welcome}); err != nil {
		t.Fatal(err)
	}
	c := start("en")
	en.waitMessage(c, fromBot("Welcome!"))
	en.settle(c)
	if got := texts(c); len(got) != 1 {
		t.Fatalf("bot-routed contact got %q", got)
	}
}

// Outside business hours a conversation the rules give to people starts
// with the away message, whether it queues, goes to the default agent, or
// is shown to everybody; a bot-routed one is the bot's to greet.
func TestOutsideBusinessHoursAtStart(t *testing.T) {
	en := newEnv(t, envOpts{}, echo)
	ana := en.agent("Ana")
	en.online(ana)
	const away = "Closed until tomorrow."
	for _, tc := range []struct {
		name     string
		doc      service.RulesDoc
		status   chat.Status
		assignee string
	}{
		{"queues", service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true}, chat.StatusWaiting, ""},
		{"default agent", service.RulesDoc{Mode: chat.ModeAutomatic, DefaultAgentID: ana.AgentID}, chat.StatusOpen, ana.AgentID},
		{"notify everybody", service.RulesDoc{Mode: chat.ModeNotifyEverybody, DefaultAgentID: ana.AgentID}, chat.StatusOpen, ana.AgentID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc
			doc.Away, doc.Welcome, doc.BusinessHours = map[string]string{"en": away}, map[string]string{"en": "Hello!"}, closedNow()
			if _, err := en.svc.PutRules(en.ctx, en.admin, doc); err != nil {
				t.Fatal(err)
			}
			c, err := en.svc.StartConversation(en.ctx, en.admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}})
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != tc.status || (tc.assignee == "") != (c.Assignee == nil) || c.Assignee != nil && c.Assignee.ID != tc.assignee {
				t.Fatalf("conversation = status %v, assignee %+v", c.Status, c.Assignee)
			}
			ms := en.messages(c)
			if len(ms) != 1 || ms[0].Text != away {
				t.Fatalf("messages = %+v, want only the away message", ms)
			}
		})
	}
	doc := service.RulesDoc{Mode: chat.ModeAutomatic, BotRouting: true, HandleAllBotID: en.botID, Away: map[string]string{"en": away}, BusinessHours: closedNow()}
	if _, err := en.svc.PutRules(en.ctx, en.admin, doc); err != nil {
		t.Fatal(err)
	}
	c, err := en.svc.StartConversation(en.ctx, en.admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	en.waitMessage(c, fromBot("Welcome!"))
	en.settle(c)
	for _, m := range en.messages(c) {
		if m.Text == away {
			t.Fatalf("a bot-routed start was told the away message: %+v", en.messages(c))
		}
	}
}
