package service

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// routeInput gathers what chat.Route reads about an app (or team) as of
// now, except the cursor and the open-chat counts: those change with every
// placement, so routeLocked reads them under the store's lock. Presence and
// connections are read outside it on purpose: they change at human speed,
// and holding the lock across those reads would only lengthen it.
func (s *Service) routeInput(ctx context.Context, appID, teamID, lang string, agents []chat.Agent, bots []chat.Bot) (chat.RouteInput, error) {
	rules, hours, err := s.EffectiveRules(ctx, appID, teamID)
	if err != nil {
		return chat.RouteInput{}, err
	}
	in := chat.RouteInput{AppID: appID, Rules: rules, Bots: bots, OutsideHours: !hours.OpenAt(s.now()), Language: lang}
	if teamID != "" {
		team, err := s.store.GetTeam(ctx, appID, teamID)
		if err != nil {
			return chat.RouteInput{}, err
		}
		in.Team = team
	}
	connected, err := s.store.ConnectedAgents(ctx, appID)
	if err != nil {
		return chat.RouteInput{}, err
	}
	live := make(map[string]bool, len(connected))
	for _, id := range connected {
		live[id] = true
	}
	in.Candidates = make([]chat.Candidate, 0, len(agents))
	for _, a := range agents {
		in.Candidates = append(in.Candidates, chat.Candidate{AgentID: a.ID, Presence: a.Presence, Connected: live[a.ID]})
	}
	return in, nil
}

// needsRotation says whether a decision made without the cursor could
// differ from one made with it: only automatic assignment reads the cursor
// and the open-chat counts. Bot routing and notify-everybody skip the lock,
// so they never queue behind the rotation.
func needsRotation(d chat.RouteDecision) bool {
	return d.Reason != chat.ReasonSkipRouting && d.Reason != chat.ReasonBotRouting && !d.NotifyAll
}

// routeLocked runs chat.Route with the round-robin cursor of in.Team (or
// the app) locked in the store, and lets apply write the decision to the
// conversation in the same transaction. apply may refuse with an error,
// and then nothing is written. Starts and handoffs both come here, so one
// wheel per app or team serves both, on every node.
func (s *Service) routeLocked(ctx context.Context, convID string, in chat.RouteInput, apply func(chat.RouteDecision, *chat.Conversation) error, facts ...*chat.AnalyticsEvent) (chat.RouteDecision, *chat.Conversation, error) {
	teamID := ""
	if in.Team != nil {
		teamID = in.Team.ID
	}
	var d chat.RouteDecision
	var before chat.Conversation
	c, err := s.store.AssignRoundRobin(ctx, in.AppID, teamID, convID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		before = *c
		if c.Assignee != nil {
			a := *c.Assignee
			before.Assignee = &a
		}
		locked := in
		locked.Cursor = rr.Cursor
		// A copy: in's slice is the caller's, and the counts belong to
		// this transaction only.
		locked.Candidates = make([]chat.Candidate, len(in.Candidates))
		for i, cand := range in.Candidates {
			cand.OpenChats = rr.OpenChats[cand.AgentID]
			locked.Candidates[i] = cand
		}
		d = chat.Route(locked)
		if err := apply(d, c); err != nil {
			return "", err
		}
		return d.Cursor, nil
	}, facts...)
	if err != nil {
		return chat.RouteDecision{}, nil, err
	}
	if _, ok := chat.InboxKindFor(&before, c); ok {
		s.publish(ctx, bus.Event{Type: bus.TypeInbox, AppID: in.AppID, ConversationID: c.ID})
	}
	return d, c, nil
}

// tellContact posts the app's own words to the contact: the away message
// (nobody can answer soon) or the welcome. It is skipBot: the contact is
// hearing from the app, not talking to a bot. key makes it idempotent for
// a caller that repeats the step.
func (s *Service) tellContact(ctx context.Context, appID, convID, text, key string) error {
	m := chat.NewMessage{Sender: chat.Sender{Type: chat.SenderSystem}, Text: text,
		Metadata: chat.Metadata{chat.MetaSkipBot: "true"}, ClientKey: key}
	_, _, err := s.appendMessage(ctx, appID, convID, m)
	return err
}
