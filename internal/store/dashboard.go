package store

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// DashboardStore is what the dashboard needs beyond the core: invitations
// for new agents, and a conversation's last handoff for the contact panel.
type DashboardStore interface {
	// CreateInvite stores an invitation; ID and CreatedAt are filled in.
	CreateInvite(ctx context.Context, inv *Invite) error
	// InviteByTokenHash is unscoped, like APIKeyByPrefix: it serves the
	// invitee, who has no other credential. It returns only invitations
	// that are neither accepted nor expired.
	InviteByTokenHash(ctx context.Context, hash []byte) (*Invite, error)
	// ListInvites returns the app's open invitations (neither accepted
	// nor expired), newest first.
	ListInvites(ctx context.Context, appID string) ([]Invite, error)
	DeleteInvite(ctx context.Context, appID, id string) error
	// AcceptInvite creates the agent a (in the invitation's app, with its
	// role) and marks the invitation used, in one transaction: a link
	// works once even when two people press it at the same moment. An
	// accepted, expired or unknown invitation is NotFound.
	AcceptInvite(ctx context.Context, hash []byte, a *chat.Agent) error

	// ListInbox is ListConversations for the dashboard's lists: any of
	// several statuses, a text search, and each conversation's contact.
	ListInbox(ctx context.Context, appID string, q InboxQuery) (InboxPage, error)

	// AddNote stores an internal note; ID and CreatedAt are filled in. The
	// conversation must be the app's.
	AddNote(ctx context.Context, n *Note) error
	// ListNotes returns a conversation's notes, oldest first.
	ListNotes(ctx context.Context, appID, conversationID string) ([]Note, error)

	// LastHandoff returns the conversation's most recent handoff event;
	// ok is false when it was never handed off.
	LastHandoff(ctx context.Context, appID, conversationID string) (e *chat.AnalyticsEvent, ok bool, err error)
}

// Invite is an invitation to join an app. Only the hash of its token is
// kept; the token itself is shown once, to the admin who made it.
type Invite struct {
	ID    string
	AppID string
	// Email is empty when the invitee chooses it.
	Email      string
	Role       chat.Role
	TokenHash  []byte
	CreatedBy  string // the agent's id, or "apikey:<id>"
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AgentID    string
}

// InboxQuery selects a page of the dashboard's inbox. Zero fields do not
// filter.
type InboxQuery struct {
	Statuses     []chat.Status // any of these
	AssigneeType chat.AssigneeType
	AssigneeID   string
	Unassigned   bool
	TeamID       string
	// Search matches, ignoring case, part of the contact's name or email,
	// or the whole of their user id or the conversation's id.
	Search string
	Cursor string
	Limit  int
}

// MaxSearchLen bounds InboxQuery.Search, in bytes.
const MaxSearchLen = 200

// InboxItem is a conversation with the contact it is with.
type InboxItem struct {
	Conversation chat.Conversation
	Contact      chat.Contact
}

// InboxPage is one page of the inbox, newest first; Next is empty on the
// last page.
type InboxPage struct {
	Items []InboxItem
	Next  string
}

// Note is an internal note on a conversation: agents see it, the contact
// and the bots never do.
type Note struct {
	ID             string
	AppID          string
	ConversationID string
	AgentID        string
	Text           string
	CreatedAt      time.Time
}

// MaxNoteLen bounds a note, in characters.
const MaxNoteLen = 10000
