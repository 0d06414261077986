package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

// applyActions carries out a bot reply's actionRequest values (SPEC §4.3,
// Kommunicate's contract), in the order the bot sent them, after its
// replies are posted. Each is safe to repeat, because a turn that ran to
// here on a node that then died runs again on another:
//
//   - resolveConversation resolves the conversation if it is still the
//     bot's and open, posts "Resolved by <bot>" (skipBot) and records it as
//     bot-resolved. A re-run finds it resolved and does nothing.
//   - askCSAT posts a system message marked chat.MetaCSAT, under which the
//     widget shows its 1–10 rating control; the rating comes back through
//     SubmitCSAT. Keyed by the turn, so it is posted once.
//   - fetchAgentAvailability answers the bot, not the contact: the bot
//     gets an event turn, chat.EventAgentAvailable or
//     EventAgentUnavailable, and says what it wants (offer a handoff, or
//     take a message). The event turn's id derives from this turn's, so a
//     re-run queues it once.
func (s *Service) applyActions(ctx context.Context, t chat.BotTurn, b *chat.Bot, actions []string) error {
	for _, a := range actions {
		var err error
		switch a {
		case richmsg.ActionResolveConversation:
			err = s.botResolves(ctx, t, b)
		case richmsg.ActionAskCSAT:
			m := *chat.CSATRequest()
			m.ClientKey = "bt:" + t.ID + ":csat"
			_, _, err = s.appendMessage(ctx, t.AppID, t.ConversationID, m)
		case richmsg.ActionFetchAgentAvailability:
			err = s.tellAvailability(ctx, t)
		default:
			// richmsg refuses unknown actions; one that gets here is from a
			// newer connector, and ignoring it beats failing the turn.
			s.log.WarnContext(ctx, "unknown bot action ignored", "app", t.AppID, "turn", t.ID, "action", a)
		}
		if err != nil {
			return fmt.Errorf("bot action %s of turn %s: %w", a, t.ID, err)
		}
	}
	return nil
}

func (s *Service) botResolves(ctx context.Context, t chat.BotTurn, b *chat.Bot) error {
	resolved := false
	_, err := s.updateConversation(ctx, t.AppID, t.ConversationID, func(c *chat.Conversation) error {
		if c.Status.Closed() || c.Assignee == nil || c.Assignee.Type != chat.AssigneeBot || c.Assignee.ID != b.ID {
			return errMoved
		}
		c.Status = chat.StatusResolved
		resolved = true
		return nil
	})
	if errors.Is(err, errMoved) {
		return nil // resolved, or taken, meanwhile: nothing left to do
	}
	if err != nil {
		return err
	}
	if !resolved {
		return nil
	}
	n := *chat.ResolvedByBotNotice(b.Name)
	n.ClientKey = "bt:" + t.ID + ":resolved"
	if _, _, err := s.appendMessage(ctx, t.AppID, t.ConversationID, n); err != nil {
		return err
	}
	s.recordBotResolved(ctx, t.AppID, t.ConversationID, b.ID, "action")
	s.log.InfoContext(ctx, "conversation resolved by its bot", "app", t.AppID, "conversation", t.ConversationID, "bot", b.ID)
	return nil
}

func (s *Service) tellAvailability(ctx context.Context, t chat.BotTurn) error {
	conv, err := s.store.GetConversation(ctx, t.AppID, t.ConversationID)
	if err != nil {
		return err
	}
	contact, err := s.store.GetContact(ctx, t.AppID, conv.ContactID)
	if err != nil {
		return err
	}
	in, err := s.startRouteInput(ctx, t.AppID, conv.TeamID, contact.Language)
	if err != nil {
		return err
	}
	// Without open-chat counts (they are read under the rotation lock,
	// which a question does not deserve): the bot asked whether anyone is
	// there, and limits are routing's business at the handoff itself.
	ev := chat.EventAgentUnavailable
	if chat.AgentsAvailable(in) {
		ev = chat.EventAgentAvailable
	}
	_, err = s.store.EnqueueBotTurn(ctx, &chat.BotTurn{ID: "av:" + t.ID, AppID: t.AppID, ConversationID: t.ConversationID,
		BotID: t.BotID, Kind: chat.BotTurnEvent, Event: ev})
	if chat.IsCode(err, chat.CodeConflict) {
		return nil // queued by an earlier run of this turn
	}
	if err == nil {
		s.wakeBots()
	}
	return err
}
