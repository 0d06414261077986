package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// A take-over from a bot, through the service, reaches the outbox as the
// events an integration expects: the new assignee, the handoff with its bot
// and reason, and the notice posted in the conversation.
func TestTakeOverEmitsWebhookEvents(t *testing.T) {
	ctx := context.Background()
	env := servicetest.New(t, nil)
	st, svc := env.Store, env.Service
	admin := service.Actor{AppID: service.DefaultAppID, Role: chat.RoleAdmin, APIKeyID: "test"}
	url := "https://crm.example.com/in"
	if _, err := svc.CreateWebhook(ctx, admin, service.WebhookInput{URL: &url, Events: []webhook.EventType{webhook.All}}); err != nil {
		t.Fatal(err)
	}
	b := chat.Bot{AppID: service.DefaultAppID, Type: chat.BotWebhook, Name: "Hook", Enabled: true, Settings: json.RawMessage(`{"url":"https://bot.example.com"}`)}
	if err := st.CreateBot(ctx, &b); err != nil {
		t.Fatal(err)
	}
	agents, err := st.ListAgents(ctx, service.DefaultAppID)
	if err != nil || len(agents) == 0 {
		t.Fatalf("agents %v: %v", agents, err)
	}
	ct := chat.Contact{AppID: service.DefaultAppID, Name: "Carol"}
	if err := st.CreateContact(ctx, &ct); err != nil {
		t.Fatal(err)
	}
	conv := chat.Conversation{AppID: service.DefaultAppID, ContactID: ct.ID, Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}}
	if err := st.CreateConversation(ctx, &conv); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.TakeOver(ctx, admin, conv.ID, agents[0].ID); err != nil {
		t.Fatal(err)
	}
	ds, err := st.ClaimWebhookDeliveries(ctx, "test-node", time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	var handoff struct {
		Data struct{ BotID, Reason string }
	}
	for _, d := range ds {
		types = append(types, string(d.EventType))
		if d.EventType == webhook.ConversationHandedOff {
			if err := json.Unmarshal(d.Event.Body, &handoff); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One claim holds one delivery per conversation: the head.
	if strings.Join(types, " ") != "conversation.created" {
		t.Fatalf("first claim %v, want the conversation's first event alone", types)
	}
	all := types
	for range 10 {
		for _, d := range ds {
			if _, err := st.FinishWebhookDelivery(ctx, d.ID, d.LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 200}}); err != nil {
				t.Fatal(err)
			}
		}
		if ds, err = st.ClaimWebhookDeliveries(ctx, "test-node", time.Minute, 100); err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			all = append(all, string(d.EventType))
			if d.EventType == webhook.ConversationHandedOff {
				if err := json.Unmarshal(d.Event.Body, &handoff); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	got := strings.Join(all, " ")
	for _, want := range []string{"conversation.assigned", "conversation.handed_off", "message.created"} {
		if !strings.Contains(got, want) {
			t.Fatalf("events %s lack %s", got, want)
		}
	}
	if handoff.Data.BotID != b.ID || handoff.Data.Reason != string(chat.HandoffTakeOver) {
		t.Fatalf("handoff data %+v", handoff.Data)
	}
}

// Every way a bot's conversation reaches people announces exactly one
// conversation.handed_off, naming the bot and the reason, written with the
// assignment; a second press of the same trigger announces nothing more.
func TestEachHandoffTriggerEmitsOneHandedOff(t *testing.T) {
	ctx := context.Background()
	env := servicetest.New(t, nil)
	st, svc := env.Store, env.Service
	admin := service.Actor{AppID: service.DefaultAppID, Role: chat.RoleAdmin, APIKeyID: "test"}
	url := "https://crm.example.com/in"
	if _, err := svc.CreateWebhook(ctx, admin, service.WebhookInput{URL: &url, Events: []webhook.EventType{webhook.ConversationHandedOff}}); err != nil {
		t.Fatal(err)
	}
	// The bot refuses every request: its turns fail at once, for good.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	defer refusing.Close()
	b := chat.Bot{AppID: service.DefaultAppID, Type: chat.BotWebhook, Name: "Hook", Enabled: true, AutoHandoff: true,
		Settings: json.RawMessage(`{"url":"` + refusing.URL + `"}`)}
	if err := st.CreateBot(ctx, &b); err != nil {
		t.Fatal(err)
	}
	runner := turn.New(turn.Options{Connectors: map[chat.BotType]bot.Connector{chat.BotWebhook: webhookbot.New(webhookbot.Options{AllowPrivate: true})},
		Deadline: 5 * time.Second})
	agents, err := st.ListAgents(ctx, service.DefaultAppID)
	if err != nil || len(agents) == 0 {
		t.Fatalf("agents %v: %v", agents, err)
	}
	team := chat.Team{AppID: service.DefaultAppID, Name: "Support", AgentIDs: []string{agents[0].ID}}
	if err := st.CreateTeam(ctx, &team); err != nil {
		t.Fatal(err)
	}
	ct := chat.Contact{AppID: service.DefaultAppID, Name: "Carol"}
	if err := st.CreateContact(ctx, &ct); err != nil {
		t.Fatal(err)
	}
	toAgent := &chat.Assignee{Type: chat.AssigneeAgent, ID: agents[0].ID}
	triggers := []struct {
		name   string
		reason chat.HandoffReason
		do     func(convID string) error
	}{
		{"talk to a human", chat.HandoffReason(chat.TriggerContactAsked), func(id string) error {
			_, err := svc.TalkToHuman(ctx, admin, id)
			return err
		}},
		{"take over", chat.HandoffTakeOver, func(id string) error {
			_, err := svc.TakeOver(ctx, admin, id, agents[0].ID)
			return err
		}},
		{"assign to a team", chat.HandoffReason(chat.TriggerAssignTeam), func(id string) error {
			_, err := svc.Assign(ctx, admin, id, service.AssignInput{TeamID: team.ID})
			return err
		}},
		{"change assignee", chat.HandoffTakeOver, func(id string) error {
			_, err := svc.ChangeAssignee(ctx, admin, id, toAgent)
			return err
		}},
		{"bot failed", chat.HandoffBotFailed, func(id string) error {
			if _, _, err := svc.SendMessage(ctx, admin, id, service.SendInput{Text: "help", Sender: &chat.Sender{Type: chat.SenderContact}}); err != nil {
				return err
			}
			turns, err := st.ClaimBotTurns(ctx, "node-1", time.Minute, 10)
			if err != nil {
				return err
			}
			for _, tr := range turns {
				if err := svc.RunBotTurn(ctx, service.BotRun{Turn: tr, Runner: runner, Lease: time.Minute}); err != nil {
					return err
				}
			}
			return nil
		}},
		{"assign (Kommunicate)", chat.HandoffTakeOver, func(id string) error {
			_, _, err := svc.AssignConversation(ctx, admin, id, toAgent, service.AssignOptions{TakeOverFromBot: true})
			return err
		}},
	}
	for _, tc := range triggers {
		t.Run(tc.name, func(t *testing.T) {
			conv := chat.Conversation{AppID: service.DefaultAppID, ContactID: ct.ID, Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}}
			if err := st.CreateConversation(ctx, &conv); err != nil {
				t.Fatal(err)
			}
			if err := tc.do(conv.ID); err != nil {
				t.Fatal(err)
			}
			// The second press finds a person holding it: no second handoff.
			if err := tc.do(conv.ID); err != nil {
				t.Fatal(err)
			}
			got := handedOff(t, st, conv.ID)
			if len(got) != 1 {
				t.Fatalf("%d conversation.handed_off events, want 1", len(got))
			}
			if got[0].BotID != b.ID || got[0].Reason != string(tc.reason) {
				t.Fatalf("handoff data %+v, want bot %s reason %s", got[0], b.ID, tc.reason)
			}
		})
	}
}

type handoffData struct{ BotID, Reason, ConversationID string }

// handedOff delivers everything queued and returns the handoff events of
// the conversation.
func handedOff(t *testing.T, st store.Store, convID string) []handoffData {
	t.Helper()
	ctx := context.Background()
	var out []handoffData
	for range 100 {
		ds, err := st.ClaimWebhookDeliveries(ctx, "test-node", time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			return out
		}
		for _, d := range ds {
			if _, err := st.FinishWebhookDelivery(ctx, d.ID, d.LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 204}}); err != nil {
				t.Fatal(err)
			}
			var ev struct{ Data handoffData }
			if err := json.Unmarshal(d.Event.Body, &ev); err != nil {
				t.Fatal(err)
			}
			if d.EventType == webhook.ConversationHandedOff && ev.Data.ConversationID == convID {
				out = append(out, ev.Data)
			}
		}
	}
	t.Fatal("the outbox never drained")
	return nil
}
