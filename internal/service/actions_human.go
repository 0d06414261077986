package service

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// TalkToHuman is the widget's "Talk to a human" (SPEC §3): the contact asks
// for a person, and a conversation a bot holds is handed off by the rules
// (routed among people, or queued with the away message when nobody can
// take it). It ignores the bot's auto-handoff setting: the contact asked.
//
// With a person (or nobody) already holding the conversation there is no
// one to hand it from, and the call changes nothing: a contact pressing
// twice, or a widget retrying, must not be told off. A closed conversation
// is a conflict. Staff and API keys may press it for the contact.
func (s *Service) TalkToHuman(ctx context.Context, actor Actor, convID string) (*chat.Conversation, error) {
	if actor.ContactID == "" {
		if err := actor.staff(); err != nil {
			return nil, err
		}
	}
	conv, err := s.GetConversation(ctx, actor, convID)
	if err != nil {
		return nil, err
	}
	if conv.Status.Closed() {
		return nil, chat.Errorf(chat.CodeConflict, "a %s conversation cannot be handed to a person: reopen it first", conv.Status)
	}
	if conv.Assignee == nil || conv.Assignee.Type != chat.AssigneeBot {
		return conv, nil
	}
	cur, err := s.store.GetBot(ctx, conv.AppID, conv.Assignee.ID)
	if err != nil && !chat.IsCode(err, chat.CodeNotFound) {
		return nil, err
	}
	d, err := s.handoff(ctx, conv.AppID, conv.ID, chat.Trigger{Kind: chat.TriggerContactAsked}, cur, "ho:"+chat.NewID())
	if err != nil {
		return nil, err
	}
	if !d.Skipped {
		if err := s.afterHandoff(ctx, conv.AppID, conv.ID, d); err != nil {
			return nil, err
		}
	}
	return s.store.GetConversation(ctx, conv.AppID, conv.ID)
}
