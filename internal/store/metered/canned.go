package metered

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func (m *Store) CreateCannedReply(ctx context.Context, r *chat.CannedReply) error {
	return observeErr(m, "CreateCannedReply", func() error { return m.s.CreateCannedReply(ctx, r) })
}

func (m *Store) UpdateCannedReply(ctx context.Context, r *chat.CannedReply) error {
	return observeErr(m, "UpdateCannedReply", func() error { return m.s.UpdateCannedReply(ctx, r) })
}

func (m *Store) DeleteCannedReply(ctx context.Context, appID, id string) error {
	return observeErr(m, "DeleteCannedReply", func() error { return m.s.DeleteCannedReply(ctx, appID, id) })
}

func (m *Store) ListCannedReplies(ctx context.Context, appID string) ([]chat.CannedReply, error) {
	return observe(m, "ListCannedReplies", func() ([]chat.CannedReply, error) { return m.s.ListCannedReplies(ctx, appID) })
}
