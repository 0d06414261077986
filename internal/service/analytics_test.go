package service_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

// The engine's storage suite, on both databases: a behaviour that differs
// between them is a bug.
func TestEngineStoreSQLite(t *testing.T) {
	storetest.RunEngine(t, func(t *testing.T, clock store.Clock) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestEngineStorePostgres(t *testing.T) {
	storetest.RunEngine(t, func(t *testing.T, clock store.Clock) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{MaxConns: 4, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func wideWindow() (time.Time, time.Time) {
	return time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
}

// Resolving a conversation a bot holds counts as bot-resolved, once, and
// resolving one a person holds does not; a take-over from a bot counts as a
// handoff by take_over, through the take-over route or a plain reassignment. Staff answers are first responses of both kinds.
func TestAnalyticsRecordedWhenThingsHappen(t *testing.T) {
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
	toBot := &chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}
	start := func(a *chat.Assignee) *chat.Conversation {
		c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}, SkipRouting: true, Assignee: a, SkipBotEvent: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	byBot, byAgent, takenOver, reassigned := start(toBot), start(&chat.Assignee{Type: chat.AssigneeAgent, ID: agent.ID}), start(toBot), start(toBot)
	for _, c := range []*chat.Conversation{byBot, byAgent} {
		if _, err := e.Service.ChangeStatus(ctx, admin, c.ID, chat.StatusResolved); err != nil {
			t.Fatal(err)
		}
	}
	// Reopened and resolved again: still one bot-resolved conversation.
	if _, err := e.Service.ChangeStatus(ctx, admin, byBot.ID, chat.StatusOpen); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.ChangeStatus(ctx, admin, byBot.ID, chat.StatusResolved); err != nil {
		t.Fatal(err)
	}
	ann := service.Actor{AppID: agent.AppID, AgentID: agent.ID, Role: agent.Role}
	if _, _, err := e.Service.SendMessage(ctx, service.ContactActor(takenOver.AppID, takenOver.ContactID), takenOver.ID, service.SendInput{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.TakeOver(ctx, ann, takenOver.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Service.SendMessage(ctx, ann, takenOver.ID, service.SendInput{Text: "Ann here"}); err != nil {
		t.Fatal(err)
	}
	// Given straight to a person through the API: a take-over too.
	if _, err := e.Service.ChangeAssignee(ctx, admin, reassigned.ID, &chat.Assignee{Type: chat.AssigneeAgent, ID: agent.ID}); err != nil {
		t.Fatal(err)
	}
	from, to := wideWindow()
	sum, err := e.Service.AnalyticsSummary(ctx, admin, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if sum.BotResolved != 1 || sum.HandedOff != 2 || sum.HandoffsByReason[string(chat.HandoffTakeOver)] != 2 || sum.Conversations != 4 {
		t.Fatalf("summary = %+v", sum)
	}
	if sum.FirstResponse[chat.FirstResponseAny].Count != 1 || sum.FirstResponse[chat.FirstResponseHuman].Count != 1 {
		t.Fatalf("first responses = %+v", sum.FirstResponse)
	}
	if _, err := e.Service.AnalyticsSummary(ctx, ann, from, to); !chat.IsCode(err, chat.CodeForbidden) {
		t.Fatalf("an agent read the analytics: %v", err)
	}
	if _, err := e.Service.AnalyticsSummary(ctx, admin, to, from); !chat.IsCode(err, chat.CodeInvalid) {
		t.Fatalf("a reversed window: %v", err)
	}
}
