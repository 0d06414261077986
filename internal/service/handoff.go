package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

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
	}, func(d chat.HandoffDecision) *chat.AnalyticsEvent {
		return handoffFact(appID, convID, d, trig, keyPrefix)
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
// counts, when not nil, names the analytics fact of the finished decision
// (nil for none), which is written in the same transaction as the
// assignment: the handoff and its conversation.handed_off event commit
// together.
func (s *Service) commitHandoff(ctx context.Context, sc *handoffScene, d chat.HandoffDecision, keyPrefix string, still func(*chat.Conversation) bool, counts func(chat.HandoffDecision) *chat.AnalyticsEvent) (chat.HandoffDecision, error) {
	appID, convID := sc.conv.AppID, sc.conv.ID
	fact := &chat.AnalyticsEvent{}
	// Decided on a read; written only if nothing moved since, so a
	// take-over in between wins and this handoff does nothing.
	write := func(d chat.HandoffDecision, c *chat.Conversation) error {
		if !still(c) {
			return errMoved
		}
		c.Assignee = d.Assignee
		c.Status = d.Status
		c.TeamID = d.TeamID
		// Reset first: the store may run this again on a retried
		// transaction, with a different routing outcome.
		*fact = chat.AnalyticsEvent{}
		if counts != nil {
			if e := counts(d); e != nil {
				*fact = *e
			}
		}
		return nil
	}
	var err error
	if d.Route {
		// People are chosen under the store's cursor lock, the same one
		// new conversations rotate on, so starts and handoffs on every
		// node share one fair wheel.
		var in chat.RouteInput
		if in, err = s.routeInput(ctx, appID, d.TeamID, sc.lang, sc.agents, sc.bots); err != nil {
			return chat.HandoffDecision{}, err
		}
		in.HumansOnly = true
		pending := d
		_, _, err = s.routeLocked(ctx, convID, in, func(r chat.RouteDecision, c *chat.Conversation) error {
			d = pending.Routed(r, sc.agents)
			return write(d, c)
		}, fact)
	} else {
		_, err = s.updateConversation(ctx, appID, convID, func(c *chat.Conversation) error { return write(d, c) }, fact)
	}
	if errors.Is(err, errMoved) {
		d.Skipped, d.Reason = true, chat.HandoffNotBotAssigned
		d.ContactMessage = ""
		return d, nil
	}
	if err != nil {
		return chat.HandoffDecision{}, fmt.Errorf("handing off conversation %s: %w", convID, err)
	}
	if d.Notice != nil {
		n := *d.Notice
		n.ClientKey = keyPrefix + ":notice"
		if _, _, err := s.appendMessage(ctx, appID, convID, n); err != nil {
			return chat.HandoffDecision{}, err
		}
	}
	if d.ContactMessage != "" {
		if err := s.tellContact(ctx, appID, convID, d.ContactMessage, keyPrefix+":away"); err != nil {
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
	toBot := d.Assignee != nil && d.Assignee.Type == chat.AssigneeBot
	if d.RemoveBot {
		// Detached, the old bot is no longer one of the conversation's
		// bots: its memory of it (Lex's session) is gone, and a later
		// hand-back to it starts it afresh.
		keep := ""
		if toBot {
			keep = d.Assignee.ID
		}
		if err := s.store.DetachBots(ctx, appID, convID, keep); err != nil {
			return fmt.Errorf("detaching the bot: %w", err)
		}
	}
	if toBot {
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

// reassignFact fills fact, inside a direct reassignment of c to to, with
// the take-over handoff it counts: a bot's conversation given straight to
// a person (or to nobody) by the API skipped the handoff rules, but it is
// still a handoff. Otherwise fact is left empty and records nothing.
func reassignFact(fact *chat.AnalyticsEvent, c *chat.Conversation, to *chat.Assignee) {
	*fact = chat.AnalyticsEvent{}
	from := c.Assignee
	if from == nil || from.Type != chat.AssigneeBot || to != nil && to.Type == chat.AssigneeBot {
		return
	}
	d := chat.HandoffDecision{Reason: chat.HandoffTakeOver, FromBotID: from.ID, Assignee: to}
	*fact = *handoffFact(c.AppID, c.ID, d, chat.Trigger{Kind: chat.TriggerTakeOver}, "reassign:"+chat.NewID())
}

// botLeft cancels the old bot's queued and running turns when a direct
// reassignment takes a conversation from it: from then on that bot must
// hear nothing and say nothing (SPEC §3), and a running turn's holder finds
// its lease gone before it posts. The handoff it counts was recorded with
// the reassignment (reassignFact).
func (s *Service) botLeft(ctx context.Context, appID, convID string, from, to *chat.Assignee) error {
	if from == nil || from.Type != chat.AssigneeBot || to != nil && *to == *from {
		return nil
	}
	if _, err := s.store.CancelBotTurns(ctx, appID, convID, "reassigned"); err != nil {
		return fmt.Errorf("cancelling the bot's turns: %w", err)
	}
	if to != nil && to.Type == chat.AssigneeBot {
		return nil
	}
	// The bot is detached when the rules say so, as a handoff would.
	conv, err := s.store.GetConversation(ctx, appID, convID)
	if err != nil {
		return err
	}
	rules, _, err := s.EffectiveRules(ctx, appID, conv.TeamID)
	if err != nil {
		return err
	}
	if rules.RemoveBotOnHandoff {
		if err := s.store.DetachBots(ctx, appID, convID, ""); err != nil {
			return fmt.Errorf("detaching the bot: %w", err)
		}
	}
	return nil
}
