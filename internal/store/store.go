// Package store defines how Switchboard persists its domain. The interface
// lives here, beside its one shared test suite (storetest); sqlite/ and
// postgres/ implement it on a common database/sql core (sqlstore/).
//
// Every method that touches app data takes the app id and scopes its query by
// it: an id from another app is reported as not found, never served.
package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Store is the whole persistence surface. Methods return *chat.Error values
// for expected failures (CodeNotFound, CodeConflict, CodeInvalid) and wrapped
// errors for everything else.
type Store interface {
	// Ping reports whether the database answers and migrations are applied.
	Ping(ctx context.Context) error
	Close() error

	CreateApp(ctx context.Context, app *chat.App) error
	GetApp(ctx context.Context, id string) (*chat.App, error)
	ListApps(ctx context.Context) ([]chat.App, error)

	// CreateAgent fails with CodeConflict when the email is taken (emails are
	// unique across the installation, because sign-in is by email alone).
	CreateAgent(ctx context.Context, a *chat.Agent) error
	GetAgent(ctx context.Context, appID, id string) (*chat.Agent, error)
	// AgentByEmail is unscoped: it serves sign-in, before the app is known.
	AgentByEmail(ctx context.Context, email string) (*chat.Agent, error)
	ListAgents(ctx context.Context, appID string) ([]chat.Agent, error)
	SetAgentPresence(ctx context.Context, appID, id string, p chat.Presence) (*chat.Agent, error)
	SetAgentPassword(ctx context.Context, appID, id, hash string) error

	// CreateTeam fails with CodeInvalid when a member is not an agent of the app.
	CreateTeam(ctx context.Context, t *chat.Team) error
	GetTeam(ctx context.Context, appID, id string) (*chat.Team, error)
	ListTeams(ctx context.Context, appID string) ([]chat.Team, error)

	CreateBot(ctx context.Context, b *chat.Bot) error
	GetBot(ctx context.Context, appID, id string) (*chat.Bot, error)
	ListBots(ctx context.Context, appID string) ([]chat.Bot, error)

	CreateContact(ctx context.Context, c *chat.Contact) error
	GetContact(ctx context.Context, appID, id string) (*chat.Contact, error)
	// ContactByUserID finds an identified contact by the customer's own user id.
	ContactByUserID(ctx context.Context, appID, userID string) (*chat.Contact, error)
	UpdateContact(ctx context.Context, appID, id string, u ContactUpdate) (*chat.Contact, error)

	CreateConversation(ctx context.Context, c *chat.Conversation) error
	GetConversation(ctx context.Context, appID, id string) (*chat.Conversation, error)
	ListConversations(ctx context.Context, appID string, f ConversationFilter) (ConversationPage, error)
	// UpdateConversation reads the conversation, lets fn change its status,
	// assignee, team or metadata, and writes it back atomically: concurrent
	// updates of one conversation (from any node) are serialised. When fn
	// returns an error nothing is written and that error is returned.
	UpdateConversation(ctx context.Context, appID, id string, fn func(*chat.Conversation) error) (*chat.Conversation, error)

	// AppendMessage stores m as the conversation's next message. It returns
	// only once the message is durable. Seqs are allocated per conversation,
	// strictly increasing with no gaps, even across processes. When m has a
	// ClientKey already used in this conversation, the original message is
	// returned with created == false and nothing is written.
	AppendMessage(ctx context.Context, appID, conversationID string, m chat.NewMessage) (msg *chat.Message, created bool, err error)
	// ListMessages returns messages with seq > afterSeq in seq order, at most limit.
	ListMessages(ctx context.Context, appID, conversationID string, afterSeq int64, limit int) ([]chat.Message, error)

	CreateUpload(ctx context.Context, u *chat.Upload) error
	GetUpload(ctx context.Context, appID, id string) (*chat.Upload, error)

	CreateAPIKey(ctx context.Context, k *chat.APIKey) error
	// APIKeyByPrefix is unscoped: it serves authentication.
	APIKeyByPrefix(ctx context.Context, prefix string) (*chat.APIKey, error)
	ListAPIKeys(ctx context.Context, appID string) ([]chat.APIKey, error)
	DeleteAPIKey(ctx context.Context, appID, id string) error

	CreateSession(ctx context.Context, s *chat.Session) error
	// SessionByTokenHash returns only unexpired sessions.
	SessionByTokenHash(ctx context.Context, hash []byte) (*chat.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
}

// ContactUpdate changes the fields that are non-nil.
type ContactUpdate struct {
	Name        *string
	Email       *string
	Language    *string
	ChatContext json.RawMessage // nil leaves it; a JSON object replaces it
}

// ConversationFilter narrows ListConversations. Zero values mean "any".
type ConversationFilter struct {
	Status       *chat.Status
	AssigneeType chat.AssigneeType // "bot" or "agent"; with AssigneeID empty, any of that type
	AssigneeID   string
	Unassigned   bool // only conversations with no assignee
	TeamID       string
	ContactID    string
	Cursor       string // from a previous page's Next
	Limit        int    // 1..MaxPageSize; 0 means DefaultPageSize
}

// Page sizes for list endpoints.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ConversationPage is one page, newest first. Next is empty on the last page.
type ConversationPage struct {
	Conversations []chat.Conversation
	Next          string
}

// Clock lets tests control time; stores use it for created/updated stamps.
type Clock func() time.Time
