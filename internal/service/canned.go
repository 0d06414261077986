package service

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Canned replies are read by every member of staff, because every agent
// answers with them; only admins write them, because they speak for the
// whole team to every contact, like the welcome and away messages.

// ListCannedReplies returns the app's canned replies by shortcut.
func (s *Service) ListCannedReplies(ctx context.Context, actor Actor) ([]chat.CannedReply, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	return s.store.ListCannedReplies(ctx, actor.AppID)
}

// CreateCannedReply saves a new canned reply. Admins only.
func (s *Service) CreateCannedReply(ctx context.Context, actor Actor, in chat.CannedReply) (*chat.CannedReply, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	r := &chat.CannedReply{AppID: actor.AppID, Shortcut: in.Shortcut, Text: in.Text}
	if err := s.store.CreateCannedReply(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateCannedReply replaces a canned reply's shortcut and text. Admins only.
func (s *Service) UpdateCannedReply(ctx context.Context, actor Actor, id string, in chat.CannedReply) (*chat.CannedReply, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if chat.ValidateID("id", id) != nil {
		return nil, chat.NotFound("canned reply")
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	r := &chat.CannedReply{ID: id, AppID: actor.AppID, Shortcut: in.Shortcut, Text: in.Text}
	if err := s.store.UpdateCannedReply(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteCannedReply removes a canned reply. Admins only.
func (s *Service) DeleteCannedReply(ctx context.Context, actor Actor, id string) error {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return err
	}
	if chat.ValidateID("id", id) != nil {
		return chat.NotFound("canned reply")
	}
	return s.store.DeleteCannedReply(ctx, actor.AppID, id)
}
