package service

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Analytics events are recorded right after the change they describe has
// committed, each under a key that makes a repeat (a re-run bot turn, two
// nodes sweeping the same conversation) a no-op. A failure to record is
// logged and never fails the change itself: the conversation matters more
// than its statistics. Handoffs are the exception: their fact commits with
// the assignment, because it carries the conversation.handed_off webhook
// event (see handoffFact).

// recordFirstResponse runs for every agent and bot message; once a
// conversation's first responses are recorded it costs one indexed read.
func (s *Service) recordFirstResponse(ctx context.Context, m *chat.Message) {
	if m.Sender.Type != chat.SenderAgent && m.Sender.Type != chat.SenderBot {
		return
	}
	if err := s.store.RecordFirstResponse(ctx, m); err != nil {
		s.log.WarnContext(ctx, "recording the first response failed", "app", m.AppID, "conversation", m.ConversationID, "err", err)
	}
}

// recordBotResolved counts a conversation a bot resolved, once per
// conversation however often it is reopened and resolved again.
func (s *Service) recordBotResolved(ctx context.Context, appID, convID, botID, how string) {
	s.record(ctx, &chat.AnalyticsEvent{AppID: appID, Key: chat.BotResolvedKey(convID), Kind: chat.AnalyticsBotResolved,
		ConversationID: convID, BotID: botID, Reason: how})
}

// handoffFact is the analytics fact of a bot's handoff to people (a
// bot-to-bot handoff is not one: the conversation is still with a bot), or
// nil. action names what caused it, so that a re-run of the same action
// counts once. It is stored with the assignment itself (the store's
// conversation change takes it), so the handoff's webhook event commits or
// rolls back with the change.
func handoffFact(appID, convID string, d chat.HandoffDecision, trig chat.Trigger, action string) *chat.AnalyticsEvent {
	if d.Skipped || d.Assignee != nil && d.Assignee.Type == chat.AssigneeBot {
		return nil
	}
	e := &chat.AnalyticsEvent{AppID: appID, Key: chat.HandoffKey(action), Kind: chat.AnalyticsHandedOff, ConversationID: convID,
		BotID: d.FromBotID, Reason: string(d.Reason), Intent: trig.Intent}
	if d.Assignee != nil {
		e.AgentID = d.Assignee.ID
	}
	return e
}

// recordResolved measures a conversation's first resolution (see
// chat.ResolvedKey for why only the first). It runs for every change that
// resolves, whoever made it: an agent, a bot's action, the inactivity sweep.
func (s *Service) recordResolved(ctx context.Context, c *chat.Conversation) {
	s.record(ctx, &chat.AnalyticsEvent{AppID: c.AppID, Key: chat.ResolvedKey(c.ID), Kind: chat.AnalyticsResolved, ConversationID: c.ID,
		Value: max(c.UpdatedAt.Sub(c.CreatedAt).Milliseconds(), 0), At: c.UpdatedAt})
}

func (s *Service) record(ctx context.Context, e *chat.AnalyticsEvent) {
	if _, err := s.store.RecordAnalytics(ctx, e); err != nil {
		s.log.WarnContext(ctx, "recording an analytics event failed", "app", e.AppID, "conversation", e.ConversationID, "kind", string(e.Kind), "err", err)
	}
}

// Analytics windows: the default is the last 30 days; longer than a year
// is refused, because the dashboard never asks for it and the counts scan
// the window.
const (
	DefaultAnalyticsWindow = 30 * 24 * time.Hour
	MaxAnalyticsWindow     = 366 * 24 * time.Hour
)

// AnalyticsSummary returns the app's counts for [from, to): zero times mean
// "now" for to and "to minus 30 days" for from. Admins only.
func (s *Service) AnalyticsSummary(ctx context.Context, actor Actor, from, to time.Time) (*store.AnalyticsSummary, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-DefaultAnalyticsWindow)
	}
	if !from.Before(to) {
		return nil, chat.FieldError("from", "from must be before to")
	}
	if to.Sub(from) > MaxAnalyticsWindow {
		return nil, chat.FieldError("from", "the window must be at most 366 days")
	}
	return s.store.AnalyticsSummary(ctx, actor.AppID, from, to)
}
