package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
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
