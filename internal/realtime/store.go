package realtime

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Store is the part of the store the gateway reads. It is declared here,
// with its consumer, so that the gateway's needs stay visible and small;
// store.Store satisfies it.
type Store interface {
	GetConversation(ctx context.Context, appID, id string) (*chat.Conversation, error)
	GetContact(ctx context.Context, appID, id string) (*chat.Contact, error)
	GetAgent(ctx context.Context, appID, id string) (*chat.Agent, error)
	ListAgents(ctx context.Context, appID string) ([]chat.Agent, error)
	ListMessages(ctx context.Context, appID, conversationID string, afterSeq int64, limit int) ([]chat.Message, error)
	LastSeqs(ctx context.Context, appID string, conversationIDs []string) (map[string]int64, error)
	ListInboxEvents(ctx context.Context, appID string, afterSeq int64, limit int) ([]chat.InboxEvent, error)
	InboxSeq(ctx context.Context, appID string) (int64, error)
	SetNodeConnections(ctx context.Context, nodeID string, agents []store.AgentRef, expiresAt time.Time) error
	ConnectedAgents(ctx context.Context, appID string) ([]string, error)
}

var _ Store = store.Store(nil)
