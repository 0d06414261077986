package service

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// roundRobin holds each app's (or team's) round-robin cursor in memory.
//
// This is the single-node stand-in for the store's locked cursor (chat.Route
// explains the transaction it needs): it is fair and race-free among the
// handoffs of this process, because mu is held from reading the cursor to
// writing the assignment, but two nodes keep two cursors, and a restart
// starts the rotation over.
type roundRobin struct {
	mu     sync.Mutex
	cursor map[string]string
}

func rrKey(appID, teamID string) string { return appID + "/" + teamID }

// handoffScene is what a handoff decision reads: the conversation and its
// app's people, rules and contact language, all as of one moment.
type handoffScene struct {
	conv   *chat.Conversation
	rules  chat.Rules
	hours  chat.BusinessHours
	agents []chat.Agent
	bots   []chat.Bot
	teams  []chat.Team
	lang   string
}

func (s *Service) loadScene(ctx context.Context, appID, convID string) (*handoffScene, error) {
	conv, err := s.store.GetConversation(ctx, appID, convID)
	if err != nil {
		return nil, err
	}
	sc := &handoffScene{conv: conv}
	if sc.rules, sc.hours, err = s.EffectiveRules(ctx, appID, conv.TeamID); err != nil {
		return nil, err
	}
	if sc.agents, err = s.store.ListAgents(ctx, appID); err != nil {
		return nil, err
	}
	if sc.bots, err = s.store.ListBots(ctx, appID); err != nil {
		return nil, err
	}
	if sc.teams, err = s.store.ListTeams(ctx, appID); err != nil {
		return nil, err
	}
	contact, err := s.store.GetContact(ctx, appID, conv.ContactID)
	if err != nil {
		return nil, err
	}
	sc.lang = contact.Language
	return sc, nil
}

// handoff decides what trig does to the conversation (chat.DecideHandoff)
// and, when it hands off, commits it. cur is the conversation's bot, for
// its auto-handoff setting. A skipped decision changes nothing; the caller
// decides what to say.
func (s *Service) handoff(ctx context.Context, appID, convID string, trig chat.Trigger, cur *chat.Bot, keyPrefix string) (chat.HandoffDecision, error) {
	sc, err := s.loadScene(ctx, appID, convID)
	if err != nil {
		return chat.HandoffDecision{}, err
	}
	in := chat.HandoffInput{Conversation: *sc.conv, Trigger: trig, Rules: sc.rules, Agents: sc.agents, Bots: sc.bots, Teams: sc.teams, Language: sc.lang}
	if cur != nil {
		in.AutoHandoff = cur.AutoHandoff
	}
	d := chat.DecideHandoff(in)
	if d.Skipped {
		s.log.InfoContext(ctx, "handoff skipped", "app", appID, "conversation", convID, "trigger", string(trig.Kind), "reason", string(d.Reason))
		return d, nil
	}
	fromBot := d.FromBotID
	d, err = s.commitHandoff(ctx, sc, d, keyPrefix, func(c *chat.Conversation) bool {
		return c.Assignee != nil && c.Assignee.Type == chat.AssigneeBot && c.Assignee.ID == fromBot
	})
	if err == nil && !d.Skipped {
		s.log.InfoContext(ctx, "conversation handed off", "app", appID, "conversation", convID, "trigger", string(trig.Kind),
			"from_bot", fromBot, "route", string(d.RouteReason), "fallback", string(d.Fallback), "status", d.Status.String())
	}
	return d, err
}

// commitHandoff finishes d (routing among people when it asks to), then
// writes it in one conversation update, then posts the notice (skipBot)
// and, when the conversation queues, the away message to the contact.
// still says whether the conversation is still as the decision read it; if
// not, nothing is written and d comes back Skipped. keyPrefix makes the two
// posts idempotent for a caller that may repeat the commit after a crash.
func (s *Service) commitHandoff(ctx context.Context, sc *handoffScene, d chat.HandoffDecision, keyPrefix string, still func(*chat.Conversation) bool) (chat.HandoffDecision, error) {
	appID, convID := sc.conv.AppID, sc.conv.ID
	var cursorKey, cursor string
	if d.Route {
		// Held until the assignment is written, so that two handoffs on
		// this node never read the same cursor.
		s.rr.mu.Lock()
		defer s.rr.mu.Unlock()
		rules, hours := sc.rules, sc.hours
		var team *chat.Team
		if d.TeamID != "" {
			for i := range sc.teams {
				if sc.teams[i].ID == d.TeamID {
					team = &sc.teams[i]
				}
			}
			if d.TeamID != sc.conv.TeamID {
				var err error
				if rules, hours, err = s.EffectiveRules(ctx, appID, d.TeamID); err != nil {
					return chat.HandoffDecision{}, err
				}
			}
		}
		connected, err := s.store.ConnectedAgents(ctx, appID)
		if err != nil {
			return chat.HandoffDecision{}, err
		}
		online := make(map[string]bool, len(connected))
		for _, id := range connected {
			online[id] = true
		}
		cands := make([]chat.Candidate, 0, len(sc.agents))
		for _, a := range sc.agents {
			// OpenChats is not counted yet: the concurrent-chat limit
			// arrives with the store's locked cursor, which counts them in
			// the same transaction.
			cands = append(cands, chat.Candidate{AgentID: a.ID, Presence: a.Presence, Connected: online[a.ID]})
		}
		cursorKey = rrKey(appID, d.TeamID)
		r := chat.Route(chat.RouteInput{
			AppID: appID, Rules: rules, HumansOnly: true, Team: team, Candidates: cands, Bots: sc.bots,
			OutsideHours: !hours.OpenAt(s.now()), Cursor: s.rr.cursor[cursorKey], Language: sc.lang,
		})
		d = d.Routed(r, sc.agents)
		cursor = r.Cursor
	}

	_, err := s.updateConversation(ctx, appID, convID, func(c *chat.Conversation) error {
		// Decided on a read; written only if nothing moved since, so a
		// take-over in between wins and this handoff does nothing.
		if !still(c) {
			return errMoved
		}
		c.Assignee = d.Assignee
		c.Status = d.Status
		c.TeamID = d.TeamID
		return nil
	})
	if errors.Is(err, errMoved) {
		d.Skipped, d.Reason = true, chat.HandoffNotBotAssigned
		d.ContactMessage = ""
		return d, nil
	}
	if err != nil {
		return chat.HandoffDecision{}, fmt.Errorf("handing off conversation %s: %w", convID, err)
	}
	if cursor != "" {
		s.rr.cursor[cursorKey] = cursor
	}
	if d.Notice != nil {
		n := *d.Notice
		n.ClientKey = keyPrefix + ":notice"
		if _, _, err := s.appendMessage(ctx, appID, convID, n); err != nil {
			return chat.HandoffDecision{}, err
		}
	}
	if d.ContactMessage != "" {
		m := chat.NewMessage{Sender: chat.Sender{Type: chat.SenderSystem}, Text: d.ContactMessage,
			Metadata: chat.Metadata{chat.MetaSkipBot: "true"}, ClientKey: keyPrefix + ":away"}
		if _, _, err := s.appendMessage(ctx, appID, convID, m); err != nil {
			return chat.HandoffDecision{}, err
		}
	}
	return d, nil
}

// errMoved aborts a handoff's write when the conversation changed between
// the decision and the write.
var errMoved = errors.New("the conversation changed meanwhile")

// afterHandoff stops the old bot's queued work and starts the new bot's,
// once the conversation has changed hands.
func (s *Service) afterHandoff(ctx context.Context, appID, convID string, d chat.HandoffDecision) error {
	if _, err := s.store.CancelBotTurns(ctx, appID, convID, "handed off: "+string(d.Reason)); err != nil {
		return err
	}
	if d.Assignee != nil && d.Assignee.Type == chat.AssigneeBot {
		// A bot-to-bot handoff: the new bot gets the event it was handed,
		// or a plain welcome when the old bot named none.
		ev := d.BotEvent
		if ev == "" {
			ev = bot.EventWelcome
		}
		return s.enqueueEvent(ctx, appID, convID, d.Assignee.ID, ev)
	}
	return nil
}

// botLeft cancels the old bot's queued and running turns when a direct
// reassignment takes a conversation from it: from then on that bot must
// hear nothing and say nothing (SPEC §3), and a running turn's holder finds
// its lease gone before it posts.
func (s *Service) botLeft(ctx context.Context, appID, convID string, from, to *chat.Assignee) error {
	if from == nil || from.Type != chat.AssigneeBot || to != nil && *to == *from {
		return nil
	}
	if _, err := s.store.CancelBotTurns(ctx, appID, convID, "reassigned"); err != nil {
		return fmt.Errorf("cancelling the bot's turns: %w", err)
	}
	return nil
}
