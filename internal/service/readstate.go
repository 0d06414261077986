package service

import (
	"context"
)

// MarkReadInput is how far the contact's widget has shown a conversation.
type MarkReadInput struct {
	Seq int64 `json:"seq"`
}

// MarkRead records that the contact has seen their conversation up to
// in.Seq and returns the read position now stored, which never moves back:
// a late report from another tab changes nothing. Only the conversation's
// own contact may call it; agents reading do not count as the contact
// reading. The position holds back the unread-reply email.
func (s *Service) MarkRead(ctx context.Context, actor Actor, convID string, in MarkReadInput) (int64, error) {
	conv, err := s.GetConversation(ctx, actor, convID)
	if err != nil {
		return 0, err
	}
	if actor.ContactID == "" {
		return 0, errNotContact
	}
	return s.store.MarkContactRead(ctx, actor.AppID, conv.ID, in.Seq)
}
