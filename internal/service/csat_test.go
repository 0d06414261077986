package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// One rating per conversation: the first stands, the same one again is a
// harmless retry, a different one is refused; only the contact (or an API
// key) may rate, and only its own conversation.
func TestCSATOnePerConversation(t *testing.T) {
	ctx := context.Background()
	e := servicetest.New(t, nil)
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: "W"}})
	if err != nil {
		t.Fatal(err)
	}
	contact := service.ContactActor(c.AppID, c.ContactID)
	if _, err := e.Service.SubmitCSAT(ctx, contact, c.ID, chat.CSAT{Rating: 11}); !chat.IsCode(err, chat.CodeInvalid) {
		t.Fatalf("rating 11: %v", err)
	}
	if _, err := e.Service.SubmitCSAT(ctx, contact, stranger.ID, chat.CSAT{Rating: 5}); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("another contact's conversation: %v", err)
	}
	owner, err := e.Store.AgentByEmail(ctx, servicetest.OwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.SubmitCSAT(ctx, service.Actor{AppID: owner.AppID, AgentID: owner.ID, Role: owner.Role}, c.ID, chat.CSAT{Rating: 10}); !chat.IsCode(err, chat.CodeForbidden) {
		t.Fatalf("an agent rating: %v", err)
	}
	got, err := e.Service.SubmitCSAT(ctx, contact, c.ID, chat.CSAT{Rating: 7, Comment: "  fine  "})
	if err != nil || got.Value != 7 || got.Comment != "fine" {
		t.Fatalf("rating = %+v, %v", got, err)
	}
	if _, err := e.Service.SubmitCSAT(ctx, contact, c.ID, chat.CSAT{Rating: 7, Comment: "fine"}); err != nil {
		t.Fatalf("the same rating again: %v", err)
	}
	if _, err := e.Service.SubmitCSAT(ctx, contact, c.ID, chat.CSAT{Rating: 1}); !chat.IsCode(err, chat.CodeConflict) {
		t.Fatalf("a different second rating: %v", err)
	}
	from, to := wideWindow()
	sum, err := e.Service.AnalyticsSummary(ctx, admin, from, to)
	if err != nil || sum.CSATCount != 1 || sum.CSATAverage != 7 {
		t.Fatalf("summary = %+v, %v", sum, err)
	}
}

// With the app's CSAT set to off the contact's rating is refused and
// nothing is recorded; an API key may still relay one, and switching the
// prompt back on lets the contact rate again.
func TestCSATOffRefusesContact(t *testing.T) {
	ctx := context.Background()
	e := servicetest.New(t, nil)
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.PutWidgetSettings(ctx, admin, chat.WidgetSettings{CSAT: chat.CSATOff}); err != nil {
		t.Fatal(err)
	}
	start := func(name string) *chat.Conversation {
		c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: name}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, relayed := start("V"), start("W")
	contact := service.ContactActor(c.AppID, c.ContactID)
	_, err = e.Service.SubmitCSAT(ctx, contact, c.ID, chat.CSAT{Rating: 8})
	if !chat.IsCode(err, chat.CodeConflict) {
		t.Fatalf("a contact's rating with CSAT off: %v", err)
	}
	var ce *chat.Error
	if !errors.As(err, &ce) || ce.Details["csat"] != chat.CSATOff {
		t.Fatalf("error details = %+v", ce)
	}
	from, to := wideWindow()
	if sum, err := e.Service.AnalyticsSummary(ctx, admin, from, to); err != nil || sum.CSATCount != 0 {
		t.Fatalf("after a refused rating: summary = %+v, %v", sum, err)
	}
	if got, err := e.Service.SubmitCSAT(ctx, admin, relayed.ID, chat.CSAT{Rating: 6}); err != nil || got.Value != 6 {
		t.Fatalf("an API key relaying a rating: %+v, %v", got, err)
	}
	if _, err := e.Service.PutWidgetSettings(ctx, admin, chat.WidgetSettings{CSAT: chat.CSATStars}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.Service.SubmitCSAT(ctx, contact, c.ID, chat.CSAT{Rating: 8}); err != nil || got.Value != 8 {
		t.Fatalf("with stars: %+v, %v", got, err)
	}
}

// A stored widget setting that no longer validates falls back to the
// defaults, but CSAT off stays off.
func TestCSATOffSurvivesAnInvalidStoredSetting(t *testing.T) {
	ctx := context.Background()
	e := servicetest.New(t, nil)
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.UpdateAppRules(ctx, admin.AppID, func(r *store.AppRules) error {
		r.Widget = chat.WidgetSettings{ThemeColor: "red", CSAT: chat.CSATOff}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.SubmitCSAT(ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, chat.CSAT{Rating: 4}); !chat.IsCode(err, chat.CodeConflict) {
		t.Fatalf("a contact's rating under a broken setting with CSAT off: %v", err)
	}
}
