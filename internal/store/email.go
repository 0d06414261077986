package store

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// EmailStore keeps the contact's read position and the state of the email
// fallback (SPEC: fallback emails). Sends are claimed like bot turns: a
// claim is a fresh token with an expiry, taken in the same transaction that
// checks the email is due, so however many nodes sweep at once, one of them
// sends; only the token's holder may finish it.
type EmailStore interface {
	// MarkContactRead moves the contact's read position in the conversation
	// up to seq (never back) and returns the position now stored. seq must
	// name a message of the conversation (0 < seq <= last seq).
	MarkContactRead(ctx context.Context, appID, conversationID string, seq int64) (int64, error)
	// ContactReadSeq returns the contact's read position (0 when none).
	ContactReadSeq(ctx context.Context, appID, conversationID string) (int64, error)

	// DueContactEmails lists up to limit conversations, across apps, that
	// owe their contact an unread-reply email: not closed, the contact has
	// an email, and an agent's message above the read position, above what
	// was emailed, not followed by a contact message, was posted within w;
	// none claimed or waiting for a retry now.
	DueContactEmails(ctx context.Context, w UnreadWindow, limit int) ([]ConversationRef, error)
	// ClaimContactEmail checks again that the conversation's email is due
	// and, if so, claims it for lease and returns what to send: the unread
	// agent messages from w.From on. nil when it is not due (any more) or
	// another node holds it.
	ClaimContactEmail(ctx context.Context, ref ConversationRef, w UnreadWindow, lease time.Duration) (*ContactEmailClaim, error)
	// FinishContactEmail ends a claim: sent (or given up on) marks its
	// messages dealt with; otherwise the next claim waits until retryAt. A
	// stale token is CodeConflict and changes nothing.
	FinishContactEmail(ctx context.Context, ref ConversationRef, token string, done bool, retryAt time.Time) error

	// ObserveAgents records which of the app's agents are offline now:
	// those in offline keep (or start) their offline time, those in online
	// lose it.
	ObserveAgents(ctx context.Context, appID string, offline, online []string) error
	// OfflineAgents returns the app's agents offline since before or
	// earlier, as ObserveAgents recorded them, sorted.
	OfflineAgents(ctx context.Context, appID string, before time.Time) ([]string, error)
	// ClaimAgentDigest claims the digest email of an agent still offline
	// since before, listing (up to MaxDigestItems) their open conversations
	// whose contact wrote after the agent's last message and after what
	// earlier digests listed. nil when there is nothing new, or another
	// node holds it.
	ClaimAgentDigest(ctx context.Context, appID, agentID string, before time.Time, lease time.Duration) (*AgentDigestClaim, error)
	// FinishAgentDigest ends a claim as FinishContactEmail does; when done,
	// the items' messages are recorded as listed.
	FinishAgentDigest(ctx context.Context, c *AgentDigestClaim, done bool, retryAt time.Time) error
}

// UnreadWindow is when an unread agent message must have been posted to
// be emailed: before Before (it has been unread long enough), and from
// From on. Older messages are never emailed, so turning email on, or a
// relay back after a long outage, does not send stale replies.
type UnreadWindow struct {
	From, Before time.Time
}

// MaxDigestItems bounds one digest email's list of conversations.
const MaxDigestItems = 50

// ConversationRef names a conversation of an app.
type ConversationRef struct {
	AppID, ConversationID string
}

// ContactEmailClaim is a claimed unread-reply email.
type ContactEmailClaim struct {
	ConversationRef
	Token string
	// Attempt counts the claims since the last success, this one included.
	Attempt int
	Contact chat.Contact
	// Messages are the unread agents' messages the email covers, in order.
	Messages []chat.Message
}

// AgentDigestClaim is a claimed offline-agent digest.
type AgentDigestClaim struct {
	AppID, AgentID, Token string
	Attempt               int
	Items                 []DigestItem
}

// DigestItem is one conversation waiting for an offline agent.
type DigestItem struct {
	ConversationID string
	ContactName    string
	// Waiting counts the contact's messages the agent has not answered
	// and no digest listed; UpToSeq is the newest of them.
	Waiting int
	UpToSeq int64
	// Since is when the oldest of them was posted.
	Since time.Time
}
