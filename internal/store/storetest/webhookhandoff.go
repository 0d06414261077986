package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// testOutboxHandoffWithChange: a handoff's fact, filled in by the change's
// decision, is stored in the change's transaction. The assignment, the
// analytics record and the conversation.handed_off event are all there or
// none is, whichever step fails; a repeat of the same key records nothing
// new; AssignRoundRobin takes facts the same way.
func testOutboxHandoffWithChange(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.All)
	drain(t, s)
	toAgent := func(agentID, key string, fact *chat.AnalyticsEvent) func(*chat.Conversation) error {
		return func(c *chat.Conversation) error {
			*fact = chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.HandoffKey(key), Kind: chat.AnalyticsHandedOff,
				ConversationID: c.ID, BotID: w.bot.ID, AgentID: agentID, Reason: string(chat.HandoffTakeOver)}
			c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: agentID}
			return nil
		}
	}
	handoffs := func() int64 {
		t.Helper()
		sum, err := s.AnalyticsSummary(ctx, w.app.ID, time.Unix(0, 0), time.Now().Add(24*time.Hour))
		must(t, err)
		return sum.HandedOff
	}
	stillBot := func() {
		t.Helper()
		c, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
		must(t, err)
		if c.Assignee == nil || c.Assignee.Type != chat.AssigneeBot {
			t.Fatalf("a failed handoff changed the assignee to %+v", c.Assignee)
		}
		if got := drain(t, s); len(got) != 0 {
			t.Fatalf("a failed handoff left events %v", eventTypes(got))
		}
		if n := handoffs(); n != 0 {
			t.Fatalf("a failed handoff was counted %d times", n)
		}
	}

	// The decision fails after filling the fact.
	fact := &chat.AnalyticsEvent{}
	_, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		if err := toAgent(w.agent.ID, "fails", fact)(c); err != nil {
			return err
		}
		return errors.New("changed its mind")
	}, fact)
	if err == nil || err.Error() != "changed its mind" {
		t.Fatalf("got %v, want the decision's error", err)
	}
	stillBot()
	// The store refuses the change (an agent of no app).
	_, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, toAgent("unknown-agent", "refused", fact), fact)
	wantCode(t, err, chat.CodeInvalid)
	stillBot()
	// The fact cannot be stored: the change goes with it.
	_, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		must(t, toAgent(w.agent.ID, "bad-kind", fact)(c))
		fact.Kind = "no-such-kind"
		return nil
	}, fact)
	wantCode(t, err, chat.CodeInvalid)
	stillBot()
	// A fact of another conversation is refused the same way.
	other := w.newConv(t, s)
	drain(t, s)
	_, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		must(t, toAgent(w.agent.ID, "elsewhere", fact)(c))
		fact.ConversationID = other.ID
		return nil
	}, fact)
	if err == nil {
		t.Fatal("a fact of another conversation was recorded")
	}
	stillBot()

	// Success: the assignment, its count and its two events together.
	_, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, toAgent(w.agent.ID, "ok", fact), fact)
	must(t, err)
	got := drain(t, s)
	if strings.Join(eventTypes(got), " ") != "conversation.assigned conversation.handed_off" {
		t.Fatalf("events %v", eventTypes(got))
	}
	if n := handoffs(); n != 1 {
		t.Fatalf("handoffs counted %d, want 1", n)
	}
	// The same key again (a re-run turn) changes the conversation but
	// records and announces no second handoff.
	_, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, toAgent(w.agent2.ID, "ok", fact), fact)
	must(t, err)
	if got := eventTypes(drain(t, s)); strings.Join(got, " ") != "conversation.assigned" {
		t.Fatalf("a repeated handoff gave events %v", got)
	}
	if n := handoffs(); n != 1 {
		t.Fatalf("handoffs counted %d after a repeat, want 1", n)
	}
	// A fact left empty records nothing.
	_, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil },
		&chat.AnalyticsEvent{})
	must(t, err)
	if got := eventTypes(drain(t, s)); strings.Join(got, " ") != "conversation.status_changed" {
		t.Fatalf("an empty fact gave events %v", got)
	}

	// Round robin: refused placement records nothing; a placement records
	// its fact with it.
	c2 := w.newConv(t, s)
	drain(t, s)
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c2.ID, func(_ store.RoundRobin, c *chat.Conversation) (string, error) {
		must(t, toAgent(w.agent.ID, "rr-refused", fact)(c))
		return "", errors.New("nobody free")
	}, fact)
	if err == nil {
		t.Fatal("a refused placement succeeded")
	}
	if got := drain(t, s); len(got) != 0 {
		t.Fatalf("a refused placement left events %v", eventTypes(got))
	}
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c2.ID, func(_ store.RoundRobin, c *chat.Conversation) (string, error) {
		must(t, toAgent(w.agent2.ID, "rr", fact)(c))
		return w.agent2.ID, nil
	}, fact)
	must(t, err)
	got = drain(t, s)
	if strings.Join(eventTypes(got), " ") != "conversation.assigned conversation.handed_off" {
		t.Fatalf("round robin events %v", eventTypes(got))
	}
	if got[1].Event.ConversationID != c2.ID {
		t.Fatalf("the handoff event names conversation %s, want %s", got[1].Event.ConversationID, c2.ID)
	}
	if n := handoffs(); n != 2 {
		t.Fatalf("handoffs counted %d, want 2", n)
	}
}
