package chat

import (
	"strings"
	"time"
	"unicode/utf8"
)

// AnalyticsKind names a fact the dashboard's analytics count. Each is
// recorded once, at the moment it happens, rather than reconstructed later
// from conversations whose state has moved on since.
type AnalyticsKind string

const (
	// AnalyticsBotResolved: a conversation was resolved while a bot was its
	// assignee, or because a bot asked for it (actionRequest).
	AnalyticsBotResolved AnalyticsKind = "bot_resolved"
	// AnalyticsHandedOff: a bot handed the conversation to people. Reason is
	// the trigger (HandoffReason), Intent the bot's last understood intent.
	AnalyticsHandedOff AnalyticsKind = "handed_off"
	// AnalyticsFirstResponse: the first answer after the contact's first
	// message. Reason is the FirstResponse kind; Value is milliseconds.
	AnalyticsFirstResponse AnalyticsKind = "first_response"
	// AnalyticsCSAT: the contact's rating (Value, 1 to 10) and comment.
	AnalyticsCSAT AnalyticsKind = "csat"
	// AnalyticsResolved: a conversation's first resolution, by anyone.
	// Value is the milliseconds from the conversation's creation, which
	// is what Kommunicate's analytics call resolution time.
	AnalyticsResolved AnalyticsKind = "resolved"
)

// First-response kinds. Both are kept because they answer different
// questions: how soon anyone (a bot included) answered, and how soon a
// person did, which is the figure Kommunicate's analytics call first
// response time. A conversation a bot resolves alone has only the first.
const (
	FirstResponseAny   = "any"   // the first bot or agent message
	FirstResponseHuman = "human" // the first agent message
)

// CSAT bounds: Kommunicate's 1–10 scale.
const (
	MinCSAT           = 1
	MaxCSAT           = 10
	MaxCSATCommentLen = 2000 // characters
)

// AnalyticsEvent is one recorded fact. Key makes recording idempotent per
// app: a step that runs twice (a bot turn re-run after a crash, two nodes
// sweeping at once) records it once.
type AnalyticsEvent struct {
	AppID          string        `json:"appId"`
	Key            string        `json:"-"`
	Kind           AnalyticsKind `json:"kind"`
	ConversationID string        `json:"conversationId"`
	// BotID and AgentID say who was involved, when someone was.
	BotID   string `json:"botId,omitempty"`
	AgentID string `json:"agentId,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Intent  string `json:"intent,omitempty"`
	// Value is a duration in milliseconds (first response, resolution) or a
	// rating (CSAT).
	Value   int64     `json:"value,omitempty"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// Keys of the events recorded once per conversation.
func BotResolvedKey(convID string) string { return "bot_resolved:" + convID }
func CSATKey(convID string) string        { return "csat:" + convID }

// ResolvedKey keys the resolution-time event. Only a conversation's first
// resolution is measured: a reopen is the contact coming back, often days
// later, and measuring a second resolution from the creation would count
// that quiet spell as work, while counting it as a second conversation
// would weigh one conversation twice in the median.
func ResolvedKey(convID string) string { return "resolved:" + convID }
func FirstResponseKey(kind, convID string) string {
	return "first_response:" + kind + ":" + convID
}

// HandoffKey keys one handoff by the action that caused it (a bot turn's
// id, or a take-over's own key), so a re-run records it once and two
// separate handoffs of one conversation are both counted.
func HandoffKey(action string) string { return "handed_off:" + action }

// CSAT is a contact's rating of a conversation.
type CSAT struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment,omitempty"`
}

// Validate checks a rating as submitted, trimming the comment.
func (c *CSAT) Validate() error {
	if c.Rating < MinCSAT || c.Rating > MaxCSAT {
		return FieldError("rating", "rating must be a whole number from %d to %d", MinCSAT, MaxCSAT)
	}
	c.Comment = strings.TrimSpace(c.Comment)
	if !utf8.ValidString(c.Comment) || utf8.RuneCountInString(c.Comment) > MaxCSATCommentLen {
		return FieldError("comment", "comment must be at most %d characters of UTF-8", MaxCSATCommentLen)
	}
	return nil
}

// Metadata a bot's actionRequest leaves on the messages it causes, for the
// widget to render.
const (
	// MetaCSAT marks the message that asks the contact for a rating: the
	// widget shows its rating control under it. The value is the scale's
	// top ("10").
	MetaCSAT = "KM_CSAT"
)

// Events a bot receives in answer to fetchAgentAvailability: whether a
// person could take the conversation now. The bot decides what to say.
const (
	EventAgentAvailable   = "KM_AGENT_AVAILABLE"
	EventAgentUnavailable = "KM_AGENT_UNAVAILABLE"
)

// AgentsAvailable reports whether a person could answer the conversation
// now: within business hours, some candidate of the pool (the team's, when
// there is one) online with a live connection and below their limit.
func AgentsAvailable(in RouteInput) bool {
	if in.OutsideHours {
		return false
	}
	for _, c := range teamPool(in.Candidates, in.Team) {
		if c.Available() && !c.AtLimit(in.Rules.MaxConcurrentChats) {
			return true
		}
	}
	return false
}

// AutoResolvedNotice is posted when a conversation is resolved for
// inactivity, so that whoever comes back sees why it closed.
func AutoResolvedNotice() *NewMessage {
	return systemNotice("Resolved after a period of inactivity")
}

// ResolvedByBotNotice is posted when a bot resolves the conversation.
func ResolvedByBotNotice(name string) *NewMessage {
	if strings.TrimSpace(name) == "" {
		name = "the bot"
	}
	return systemNotice("Resolved by " + name)
}

// CSATRequest is the message that asks the contact to rate the
// conversation (actionRequest askCSAT).
func CSATRequest() *NewMessage {
	m := systemNotice("How would you rate this conversation?")
	m.Metadata[MetaCSAT] = "10"
	return m
}
