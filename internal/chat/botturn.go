package chat

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// BotTurnKind says what a bot turn hands the bot: a contact's message, or an
// event (WELCOME, a custom welcome event, KOMMUNICATE_MEDIA_EVENT, the event
// of a bot-to-bot handoff).
type BotTurnKind string

const (
	BotTurnMessage BotTurnKind = "message"
	BotTurnEvent   BotTurnKind = "event"
)

// BotTurnState is where a turn is in its life. Pending and running turns are
// "open": they still owe the contact an answer or a handoff (SPEC §9).
type BotTurnState string

const (
	BotTurnPending   BotTurnState = "pending"
	BotTurnRunning   BotTurnState = "running"
	BotTurnDone      BotTurnState = "done"
	BotTurnHandedOff BotTurnState = "handed_off"
	BotTurnFailed    BotTurnState = "failed"
)

// Final reports whether s ends a turn, which is what a finish may set.
func (s BotTurnState) Final() bool {
	return s == BotTurnDone || s == BotTurnHandedOff || s == BotTurnFailed
}

// MaxBotTurnNote bounds a turn's outcome note. Longer notes are cut rather
// than refused: refusing to record an outcome over its wording would leave
// the turn open, which is worse than a short note.
const MaxBotTurnNote = 500

// BotTurn is one unit of bot work, queued durably so that a node dying
// mid-turn loses nothing: another node (or the same one restarted) claims it
// once its lease expires.
type BotTurn struct {
	ID             string      `json:"id"`
	AppID          string      `json:"appId"`
	ConversationID string      `json:"conversationId"`
	BotID          string      `json:"botId"`
	Kind           BotTurnKind `json:"kind"`
	// MessageSeq is the contact message the turn answers. A turn answering
	// a message may be an event (an attachment is sent to the bot as
	// KOMMUNICATE_MEDIA_EVENT), so it is the seq, not the kind, that makes a
	// turn "the one for that message": there is at most one per message.
	// Zero for events not tied to a message (welcome, bot-to-bot handoff).
	MessageSeq int64        `json:"messageSeq,omitempty"`
	Event      string       `json:"event,omitempty"`
	State      BotTurnState `json:"state"`
	// Attempts counts claims that did not end in a release: 1 while the
	// first node works on it, 2 once a node died and another took it over.
	Attempts       int       `json:"attempts"`
	LeaseOwner     string    `json:"leaseOwner,omitempty"`
	LeaseToken     string    `json:"-"`
	LeaseExpiresAt time.Time `json:"leaseExpiresAt,omitzero"`
	CreatedAt      time.Time `json:"createdAt"`
	FinishedAt     time.Time `json:"finishedAt,omitzero"`
	// Note says how the turn ended, for admins; never a secret or a raw
	// upstream error.
	Note string `json:"note,omitempty"`
}

// Validate checks a turn as it is enqueued.
func (t *BotTurn) Validate() error {
	if err := ValidateID("botId", t.BotID); err != nil {
		return err
	}
	if t.MessageSeq < 0 {
		return FieldError("messageSeq", "messageSeq must not be negative")
	}
	switch t.Kind {
	case BotTurnMessage:
		if t.MessageSeq == 0 {
			return FieldError("messageSeq", "a message turn names the message it answers")
		}
		if t.Event != "" {
			return FieldError("event", "a message turn carries no event")
		}
	case BotTurnEvent:
		if t.Event == "" || len(t.Event) > MaxNameLen || !utf8.ValidString(t.Event) {
			return FieldError("event", "an event turn needs an event name of at most %d bytes", MaxNameLen)
		}
	default:
		return FieldError("kind", "kind must be message or event")
	}
	return nil
}

// TrimNote cuts a note to MaxBotTurnNote bytes on a rune boundary.
func TrimNote(s string) string {
	if len(s) <= MaxBotTurnNote {
		return s
	}
	s = s[:MaxBotTurnNote]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// BotReplyKey is the client key of a turn's i-th reply. Posting replies and
// finishing the turn are two writes; with these keys a node that crashed
// between them, and the node that takes the turn over, post the same keys,
// and AppendMessage's idempotency makes the second post a no-op. So a turn's
// replies appear once even though the turn may run twice.
func BotReplyKey(turnID string, i int) string {
	return "bt:" + turnID + ":" + strconv.Itoa(i)
}
