package botrun_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// KM_ASSIGN_TO with an agent's id hands the conversation to that agent,
// skipping the rules (here: automatic assignment, and the agent offline).
func TestAssignToAgentByID(t *testing.T) {
	var target string
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		return 200, []reply{{Message: "Connecting you", Metadata: map[string]string{chat.MetaAssignTo: target}}}
	})
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true}); err != nil {
		t.Fatal(err)
	}
	kim := en.agent("Kim")
	en.bot.mu.Lock()
	target = kim.AgentID
	en.bot.mu.Unlock()
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "a person please", nil)
	en.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderSystem && m.Text == "Assigned to Kim" })
	en.settle(c)
	if got := en.conv(c); got.Assignee == nil || *got.Assignee != (chat.Assignee{Type: chat.AssigneeAgent, ID: kim.AgentID}) || got.Status != chat.StatusOpen {
		t.Fatalf("conversation = %+v", got)
	}
	s := en.summary()
	if s.HandedOff != 1 || s.HandoffsByReason[string(chat.HandoffAssignTo)] != 1 {
		t.Fatalf("handoffs = %d %v", s.HandedOff, s.HandoffsByReason)
	}
}

// A bot slower than the turn's deadline is a failure: with auto-handoff on
// the conversation goes to people, within the deadline and a little.
func TestTimeoutHandsOff(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	en := newEnv(t, envOpts{autoHandoff: true, deadline: 400 * time.Millisecond}, func(webhookbot.Request) (int, []reply) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		return 200, []reply{{Message: "too late"}}
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	began := time.Now()
	en.contactSays(c, "hello?", nil)
	en.waitMessage(c, func(m chat.Message) bool {
		return m.Sender.Type == chat.SenderSystem && m.Text == chat.WaitingNotice().Text
	})
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("handoff took %v", took)
	}
	en.settle(c)
	if got := en.conv(c); got.Assignee != nil && got.Assignee.Type == chat.AssigneeBot {
		t.Fatalf("still with the bot: %+v", got)
	}
	for _, m := range en.messages(c) {
		if m.Text == "too late" {
			t.Fatalf("the late answer was posted: %+v", m)
		}
	}
	if s := en.summary(); s.HandoffsByReason[string(chat.HandoffBotFailed)] != 1 {
		t.Fatalf("handoffs = %v", s.HandoffsByReason)
	}
}

// closedNow is business hours that are closed at the moment: open all day,
// but only three days from today.
func closedNow() *service.HoursDoc {
	day := time.Now().UTC().AddDate(0, 0, 3).Weekday()
	names := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	return &service.HoursDoc{TimeZone: "UTC", Weekly: map[string][]chat.TimeRange{names[day]: {{Start: 0, End: chat.EndOfDay}}}}
}

// Outside business hours nobody qualifies, even agents who are online:
// the contact is told the away message, and the conversation waits in the
// queue, or goes to the default agent, as the rules say.
func TestOutsideBusinessHours(t *testing.T) {
	const away = "We are closed; we answer from 9 to 5."
	for _, queue := range []bool{true, false} {
		name := "queues"
		if !queue {
			name = "goes to the default agent"
		}
		t.Run(name, func(t *testing.T) {
			en := newEnv(t, envOpts{}, func(webhookbot.Request) (int, []reply) {
				return 200, []reply{{Message: "Let me get a person", Metadata: map[string]string{chat.MetaAssignTo: ""}}}
			})
			lee := en.agent("Lee")
			en.online(lee, en.agent("Max"))
			doc := service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: queue, Away: map[string]string{"en": away}, BusinessHours: closedNow()}
			if !queue {
				doc.DefaultAgentID = lee.AgentID
			}
			if _, err := en.svc.PutRules(en.ctx, en.admin, doc); err != nil {
				t.Fatal(err)
			}
			c := en.start(service.NewConversation{SkipBotEvent: true})
			en.contactSays(c, "help", nil)
			told := en.waitMessage(c, func(m chat.Message) bool { return m.Text == away })
			if told.Sender.Type != chat.SenderSystem || told.Metadata[chat.MetaSkipBot] != "true" {
				t.Fatalf("away message = %+v", told)
			}
			en.settle(c)
			got := en.conv(c)
			switch {
			case queue && (got.Status != chat.StatusWaiting || got.Assignee != nil):
				t.Fatalf("conversation = status %v, assignee %+v; want waiting, unassigned", got.Status, got.Assignee)
			case !queue && (got.Assignee == nil || got.Assignee.ID != lee.AgentID || got.Status != chat.StatusOpen):
				t.Fatalf("conversation = status %v, assignee %+v; want open with Lee", got.Status, got.Assignee)
			}
		})
	}
}

// Handoffs route like starts: in automatic mode an agent at the
// concurrent-chat limit is skipped, and in notify-everybody mode the
// default agent gets the conversation.
func TestHandoffRespectsLimitAndDefaultAgent(t *testing.T) {
	en := newEnv(t, envOpts{}, func(webhookbot.Request) (int, []reply) {
		return 200, []reply{{Message: "Over to a person", Metadata: map[string]string{chat.MetaAssignTo: ""}}}
	})
	// Ids sort by creation: round robin would try Ada first.
	ada, bo := en.agent("Ada"), en.agent("Bo")
	en.online(ada, bo)
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, MaxConcurrentChats: 1, QueueWhenNobody: true}); err != nil {
		t.Fatal(err)
	}
	// Ada is at her limit of one open chat.
	en.start(service.NewConversation{SkipBotEvent: true, SkipRouting: true, Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: ada.AgentID}})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "help", nil)
	en.waitMessage(c, func(m chat.Message) bool { return m.Text == "Assigned to Bo" })
	en.settle(c)
	if got := en.conv(c); got.Assignee == nil || got.Assignee.ID != bo.AgentID {
		t.Fatalf("automatic: assignee %+v, want Bo", got.Assignee)
	}

	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeNotifyEverybody, DefaultAgentID: ada.AgentID, MaxConcurrentChats: 1}); err != nil {
		t.Fatal(err)
	}
	c2 := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c2, "help", nil)
	en.waitMessage(c2, func(m chat.Message) bool { return m.Text == "Assigned to Ada" })
	en.settle(c2)
	if got := en.conv(c2); got.Assignee == nil || got.Assignee.ID != ada.AgentID {
		t.Fatalf("notify everybody: assignee %+v, want Ada", got.Assignee)
	}
}

// givingUpBot understands the intent and gives up on it, as a Lex bot
// whose intent failed does.
type givingUpBot struct{}

func (givingUpBot) Turn(_ context.Context, t bot.Turn, _ json.RawMessage) (bot.Result, error) {
	if t.Event != "" {
		return bot.Result{}, nil
	}
	return bot.Result{Replies: []bot.Reply{{Text: "I cannot do refunds"}}, GaveUp: true, Intent: "Refund"}, nil
}

// A handoff is recorded with its trigger and the bot's last intent, and the
// bot's answer counts as the first response (a person's answer separately).
func TestHandoffRecordsReasonAndIntent(t *testing.T) {
	en := newEnv(t, envOpts{noWorker: true, autoHandoff: true}, echo)
	en.runner = turn.New(turn.Options{Connectors: map[chat.BotType]bot.Connector{chat.BotWebhook: givingUpBot{}}, Deadline: 5 * time.Second})
	en.startWorker("node-a", 2*time.Second)
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic}); err != nil {
		t.Fatal(err)
	}
	ned := en.agent("Ned")
	en.online(ned)
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "refund me", nil)
	en.waitMessage(c, func(m chat.Message) bool { return m.Text == "Assigned to Ned" })
	en.settle(c)
	if _, _, err := en.svc.SendMessage(en.ctx, ned, c.ID, service.SendInput{Text: "Ned here"}); err != nil {
		t.Fatal(err)
	}
	s := en.summary()
	if s.HandedOff != 1 || s.HandoffsByReason[string(chat.HandoffBotGaveUp)] != 1 {
		t.Fatalf("handoffs = %d %v", s.HandedOff, s.HandoffsByReason)
	}
	if len(s.TopHandoffIntents) != 1 || s.TopHandoffIntents[0] != (store.IntentCount{Intent: "Refund", Count: 1}) {
		t.Fatalf("intents = %+v", s.TopHandoffIntents)
	}
	if s.FirstResponse[chat.FirstResponseAny].Count != 1 || s.FirstResponse[chat.FirstResponseHuman].Count != 1 {
		t.Fatalf("first responses = %+v", s.FirstResponse)
	}
}

// The contact's "Talk to a human" hands the conversation off whatever the
// bot's auto-handoff setting, and from then on the bot hears nothing;
// pressing it again changes nothing.
func TestContactAsksForAHuman(t *testing.T) {
	en := newEnv(t, envOpts{}, echo) // auto-handoff off
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic}); err != nil {
		t.Fatal(err)
	}
	ola := en.agent("Ola")
	en.online(ola)
	c := en.start(service.NewConversation{})
	en.waitMessage(c, fromBot("Welcome!"))
	en.settle(c)
	contact := service.ContactActor(c.AppID, c.ContactID)
	got, err := en.svc.TalkToHuman(en.ctx, contact, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Assignee == nil || got.Assignee.ID != ola.AgentID {
		t.Fatalf("assignee = %+v, want Ola", got.Assignee)
	}
	if again, err := en.svc.TalkToHuman(en.ctx, contact, c.ID); err != nil || again.Assignee.ID != ola.AgentID {
		t.Fatalf("pressing again: %+v, %v", again, err)
	}
	en.contactSays(c, "hello Ola", nil)
	time.Sleep(300 * time.Millisecond) // several polls
	if reqs := en.bot.requests(); len(reqs) != 1 {
		t.Fatalf("the bot heard %d requests, want only the welcome", len(reqs))
	}
	if s := en.summary(); s.HandoffsByReason[string(chat.HandoffContactAsked)] != 1 {
		t.Fatalf("handoffs = %v", s.HandoffsByReason)
	}
}
