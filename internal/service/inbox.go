package service

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Inbox returns a page of the dashboard's inbox: conversations with their
// contacts, for staff.
func (s *Service) Inbox(ctx context.Context, actor Actor, q store.InboxQuery) (store.InboxPage, error) {
	if err := actor.staff(); err != nil {
		return store.InboxPage{}, err
	}
	if q.Limit < 0 || q.Limit > store.MaxPageSize {
		return store.InboxPage{}, chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	if len(q.Search) > store.MaxSearchLen {
		return store.InboxPage{}, chat.FieldError("q", "the search text must be at most %d characters", store.MaxSearchLen)
	}
	return s.store.ListInbox(ctx, actor.AppID, q)
}

// AddNote writes an internal note on a conversation. Only agents write
// notes: a note is signed by a person.
func (s *Service) AddNote(ctx context.Context, actor Actor, conversationID, text string) (*store.Note, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if actor.AgentID == "" {
		return nil, chat.Errorf(chat.CodeForbidden, "internal notes are written by signed-in agents, not API keys")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, chat.FieldError("text", "the note is empty")
	}
	if utf8.RuneCountInString(text) > store.MaxNoteLen {
		return nil, chat.FieldError("text", "a note is at most %d characters", store.MaxNoteLen)
	}
	conv, err := s.GetConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	n := &store.Note{AppID: actor.AppID, ConversationID: conv.ID, AgentID: actor.AgentID, Text: text}
	if err := s.store.AddNote(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// ListNotes returns a conversation's internal notes, oldest first.
func (s *Service) ListNotes(ctx context.Context, actor Actor, conversationID string) ([]store.Note, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	conv, err := s.GetConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	return s.store.ListNotes(ctx, actor.AppID, conv.ID)
}
