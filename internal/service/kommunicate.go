package service

import (
	"context"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// This file holds the use cases the Kommunicate-compatible API needs beyond
// the ones /api/v1 uses. Kommunicate names every participant with one
// string (a user id, an agent's id or email, a bot id) where Switchboard has
// typed references; resolving those strings is a rule about who may act in
// an app, so it lives here rather than in the HTTP adapter.

// ResolveAgentOrBot finds the agent (by id or email) or the bot (by id) of
// the actor's app that ref names. Anything else, including an agent of
// another app, is not found.
func (s *Service) ResolveAgentOrBot(ctx context.Context, actor Actor, ref string) (*chat.Assignee, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	ref = strings.TrimSpace(ref)
	notFound := chat.NotFound("agent or bot")
	if strings.Contains(ref, "@") {
		email, err := chat.NormalizeEmail("assignee", ref)
		if err != nil || email == "" {
			return nil, notFound
		}
		// AgentByEmail is unscoped (emails are unique per installation), so
		// the app check here is what keeps other apps' agents out of reach.
		a, err := s.store.AgentByEmail(ctx, email)
		if chat.IsCode(err, chat.CodeNotFound) || (err == nil && a.AppID != actor.AppID) {
			return nil, notFound
		}
		if err != nil {
			return nil, err
		}
		return &chat.Assignee{Type: chat.AssigneeAgent, ID: a.ID}, nil
	}
	if chat.ValidateID("id", ref) != nil {
		return nil, notFound
	}
	if a, err := s.store.GetAgent(ctx, actor.AppID, ref); err == nil {
		return &chat.Assignee{Type: chat.AssigneeAgent, ID: a.ID}, nil
	} else if !chat.IsCode(err, chat.CodeNotFound) {
		return nil, err
	}
	if b, err := s.store.GetBot(ctx, actor.AppID, ref); err == nil {
		return &chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}, nil
	} else if !chat.IsCode(err, chat.CodeNotFound) {
		return nil, err
	}
	return nil, notFound
}

// ResolveSender decides who a message sent "as" ref is from: the
// conversation's own contact when ref is its user id (or contact id), else
// an agent or bot of the app. Another contact's user id is refused, so an
// integration cannot post into a conversation as a stranger.
func (s *Service) ResolveSender(ctx context.Context, actor Actor, conversationID, ref string) (*chat.Sender, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	conv, err := s.GetConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, chat.FieldError("Of-User-Id", "the sender is required")
	}
	contact, err := s.store.GetContact(ctx, actor.AppID, conv.ContactID)
	if err != nil {
		return nil, err
	}
	if ref == contact.ID || (contact.UserID != "" && ref == contact.UserID) {
		return &chat.Sender{Type: chat.SenderContact, ID: contact.ID}, nil
	}
	who, err := s.ResolveAgentOrBot(ctx, actor, ref)
	if chat.IsCode(err, chat.CodeNotFound) {
		return nil, chat.FieldError("Of-User-Id", "%q is neither this conversation's user nor an agent or bot of the app", ref)
	}
	if err != nil {
		return nil, err
	}
	if who.Type == chat.AssigneeBot {
		return &chat.Sender{Type: chat.SenderBot, ID: who.ID}, nil
	}
	return &chat.Sender{Type: chat.SenderAgent, ID: who.ID}, nil
}

// AssignOptions refine AssignConversation.
type AssignOptions struct {
	// TakeOverFromBot says a person takes the conversation from its bot.
	// Today that is a plain reassignment to the agent; the full handoff
	// (system notice, detaching the bot, notifications) will hang off this
	// flag, so callers that mean "take over" already say so.
	TakeOverFromBot bool
}

// AssignConversation gives a conversation to an agent or a bot and reports
// whether the assignee changed.
func (s *Service) AssignConversation(ctx context.Context, actor Actor, id string, to *chat.Assignee, opt AssignOptions) (*chat.Conversation, bool, error) {
	if err := actor.staff(); err != nil {
		return nil, false, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, false, chat.NotFound("conversation")
	}
	if to == nil {
		return nil, false, chat.FieldError("assignee", "assignee is required")
	}
	if err := to.Validate(); err != nil {
		return nil, false, err
	}
	if opt.TakeOverFromBot && to.Type != chat.AssigneeAgent {
		return nil, false, chat.FieldError("assignee", "taking over from a bot needs a human agent as the new assignee")
	}
	changed := false
	var prev *chat.Assignee
	fact := &chat.AnalyticsEvent{}
	c, err := s.updateConversation(ctx, actor.AppID, id, func(c *chat.Conversation) error {
		prev = c.Assignee
		changed = c.Assignee == nil || *c.Assignee != *to
		reassignFact(fact, c, to)
		c.Assignee = &chat.Assignee{Type: to.Type, ID: to.ID}
		return nil
	}, fact)
	if err != nil {
		return nil, false, err
	}
	if err := s.botLeft(ctx, actor.AppID, id, prev, to); err != nil {
		return nil, false, err
	}
	s.log.InfoContext(ctx, "conversation assigned", "app", actor.AppID, "conversation", id,
		"assignee_type", string(to.Type), "takeover", opt.TakeOverFromBot, "changed", changed)
	return c, changed, nil
}
