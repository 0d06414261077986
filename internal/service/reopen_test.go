package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
)

// A contact writing into a resolved conversation reopens it with the same
// assignee, and a bot assignee gets a turn for that very message. Staff
// messages leave a resolved conversation resolved, as does a client retrying
// a message from before the resolution, and a contact's message
// does not bring spam back.
func TestContactMessageReopensResolved(t *testing.T) {
	ctx := context.Background()
	e := servicetest.New(t, nil)
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	b := chat.Bot{AppID: service.DefaultAppID, Type: chat.BotWebhook, Name: "Helper", Enabled: true}
	if err := e.Store.CreateBot(ctx, &b); err != nil {
		t.Fatal(err)
	}
	agent, err := e.Service.CreateAgent(ctx, admin, service.NewAgent{Email: "ann@example.com", Name: "Ann", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	start := func(a *chat.Assignee, status chat.Status) *chat.Conversation {
		c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}, SkipRouting: true, Assignee: a, SkipBotEvent: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Service.ChangeStatus(ctx, admin, c.ID, status); err != nil {
			t.Fatal(err)
		}
		return c
	}
	toBot := &chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}
	toAnn := &chat.Assignee{Type: chat.AssigneeAgent, ID: agent.ID}
	byBot, byAnn, spam := start(toBot, chat.StatusResolved), start(toAnn, chat.StatusResolved), start(toAnn, chat.StatusSpam)
	ann := service.Actor{AppID: agent.AppID, AgentID: agent.ID, Role: agent.Role}

	// A client retrying a message it sent before the resolution (the same
	// clientKey) is not the contact coming back.
	retried := start(toAnn, chat.StatusOpen)
	retriedBy := service.ContactActor(retried.AppID, retried.ContactID)
	if _, _, err := e.Service.SendMessage(ctx, retriedBy, retried.ID, service.SendInput{Text: "thanks, bye", ClientKey: "k-1"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // timestamps are kept to the microsecond
	if _, err := e.Service.ChangeStatus(ctx, admin, retried.ID, chat.StatusResolved); err != nil {
		t.Fatal(err)
	}
	if _, created, err := e.Service.SendMessage(ctx, retriedBy, retried.ID, service.SendInput{Text: "thanks, bye", ClientKey: "k-1"}); err != nil || created {
		t.Fatalf("the retry: created %v, %v", created, err)
	}

	// Ann's follow-up does not reopen her resolved conversation.
	if _, _, err := e.Service.SendMessage(ctx, ann, byAnn.ID, service.SendInput{Text: "one more thing"}); err != nil {
		t.Fatal(err)
	}
	status := func(id string) (chat.Status, *chat.Assignee) {
		t.Helper()
		c, err := e.Store.GetConversation(ctx, service.DefaultAppID, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Status, c.Assignee
	}
	if s, _ := status(byAnn.ID); s != chat.StatusResolved {
		t.Fatalf("after the agent's message the status is %v, want resolved", s)
	}
	if s, _ := status(retried.ID); s != chat.StatusResolved {
		t.Fatalf("after a retry of an older message the status is %v, want resolved", s)
	}

	for _, c := range []*chat.Conversation{byBot, byAnn, spam} {
		if _, _, err := e.Service.SendMessage(ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, service.SendInput{Text: "I'm back"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []struct {
		c        *chat.Conversation
		status   chat.Status
		assignee *chat.Assignee
	}{{byBot, chat.StatusOpen, toBot}, {byAnn, chat.StatusOpen, toAnn}, {spam, chat.StatusSpam, toAnn}} {
		s, a := status(want.c.ID)
		if s != want.status || a == nil || *a != *want.assignee {
			t.Errorf("conversation %s: status %v, assignee %+v; want %v, %+v", want.c.ID, s, a, want.status, want.assignee)
		}
	}

	// The bot hears the message that reopened its conversation.
	turns, err := e.Store.ClaimBotTurns(ctx, "test-node", time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	var heard int
	for _, turn := range turns {
		if turn.ConversationID == byBot.ID && turn.Kind == chat.BotTurnMessage {
			heard++
		}
	}
	if heard != 1 {
		t.Fatalf("the bot got %d turns for the reopening message, want 1 (turns: %+v)", heard, turns)
	}
}
