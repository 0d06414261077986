package store

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// CannedReplyStore keeps an app's canned replies. A shortcut names one
// reply per app: a second one is a Conflict on field "shortcut".
type CannedReplyStore interface {
	// CreateCannedReply stores r; ID and the times are filled in. The app
	// holds at most chat.MaxCannedReplies.
	CreateCannedReply(ctx context.Context, r *chat.CannedReply) error
	// UpdateCannedReply changes r's shortcut and text, and fills in the
	// rest from the stored reply.
	UpdateCannedReply(ctx context.Context, r *chat.CannedReply) error
	DeleteCannedReply(ctx context.Context, appID, id string) error
	// ListCannedReplies returns the app's replies by shortcut.
	ListCannedReplies(ctx context.Context, appID string) ([]chat.CannedReply, error)
}
