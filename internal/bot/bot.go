// Package bot is the boundary between a conversation and the AI agent that
// answers it first. A connector (the webhook bot, the Lex connector) takes
// one turn in and gives ordered replies and signals out; everything else
// (queueing turns durably, deadlines, retries, handoff) belongs to the
// pipeline around it, so that every connector gets the same guarantees.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Events a turn can carry instead of (or besides) a contact's message.
// The names are Kommunicate's, which bot builders already handle.
const (
	EventWelcome = "WELCOME"                 // a conversation started with this bot
	EventMedia   = "KOMMUNICATE_MEDIA_EVENT" // the contact sent an attachment or a location
)

// Turn is one thing the bot must answer.
type Turn struct {
	AppID          string
	ConversationID string
	Bot            *chat.Bot
	Contact        *chat.Contact
	// Message is the contact's message; nil for a pure event (a welcome).
	Message *chat.Message
	// Event is empty for an ordinary message, EventWelcome, EventMedia, or
	// a custom welcome event named by the widget (customWelcomeEvent), or
	// the event a bot-to-bot handoff passes on.
	Event string
	// Language is the contact's BCP-47 tag, if known.
	Language string
	// FileURLs maps an attachment's upload id to a signed URL the bot's own
	// code can fetch.
	FileURLs map[string]string
}

// Reply is one message the bot sends, in order. Metadata carries rich
// message templates (templateId, payload) and Kommunicate's control keys
// (KM_ASSIGN_TO, KM_ASSIGN_TEAM, actionRequest).
type Reply struct {
	Text     string
	Metadata chat.Metadata
}

// Result is a connector's answer to a turn.
type Result struct {
	Replies []Reply
	// GaveUp says the bot cannot help (a failed intent, too many
	// fallbacks, its handoff attribute): with auto-handoff on, the
	// conversation goes to a person.
	GaveUp bool
	// Intent is the bot's understanding of the turn, when it has one; it
	// is recorded with a handoff so admins see which intents hand off most.
	Intent string
	// Warnings are problems the bot's owner should see (an invalid rich
	// payload shown as text, a truncated message); they never reach the
	// contact.
	Warnings []string
	// State is connector-specific data to keep for the next turn of the
	// same conversation (Lex's session attributes); nil keeps it unchanged.
	State json.RawMessage
}

// Connector talks to one kind of bot.
type Connector interface {
	// Turn asks the bot to answer t. It must honour ctx's deadline. An
	// error should be an *Error, so the pipeline knows whether to retry.
	Turn(ctx context.Context, t Turn, state json.RawMessage) (Result, error)
}

// Kind classifies a connector failure for the pipeline.
type Kind int

const (
	// Retryable failures (a timeout, a 5xx, throttling) are tried again
	// with backoff while the turn's deadline allows.
	Retryable Kind = iota + 1
	// Misconfigured failures (an unknown bot or alias, bad settings, a 4xx
	// from the bot's endpoint) will not heal by retrying; admins see them.
	Misconfigured
	// Unauthorized failures mean the bot's credentials stopped working;
	// the bot is marked broken for admins.
	Unauthorized
)

func (k Kind) String() string {
	switch k {
	case Retryable:
		return "retryable"
	case Misconfigured:
		return "misconfigured"
	case Unauthorized:
		return "unauthorized"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a connector failure. Message is safe to show to the bot's
// admins (it never holds a secret); Cause is for logs.
type Error struct {
	Kind    Kind
	Message string
	Cause   error
	// RetryAfter, when the bot said how long to wait (HTTP Retry-After),
	// is the earliest the pipeline should try a Retryable turn again.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("bot %s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("bot %s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// KindOf returns err's Kind; an error that is not an *Error counts as
// retryable, because an unexpected failure may well be passing.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Retryable
}
