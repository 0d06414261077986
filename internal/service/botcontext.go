package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// BotContext is what the dashboard's contact panel shows about the bot's
// side of a conversation: which bot, what it understood last, what its
// session holds, and why it last handed the conversation to people.
type BotContext struct {
	BotID string `json:"botId,omitempty"`
	// LastIntent is the intent the bot understood in its last turn; when
	// the bot was detached at a handoff (and its turns with it), the
	// intent it reported with that handoff.
	LastIntent string `json:"lastIntent,omitempty"`
	// SessionAttributes are the bot's session attributes (Lex's), as they
	// stood after its last turn.
	SessionAttributes map[string]string `json:"sessionAttributes"`
	LastHandoff       *HandoffInfo      `json:"lastHandoff"`
}

// HandoffInfo is one handoff, with its reason in words for people.
type HandoffInfo struct {
	BotID      string    `json:"botId,omitempty"`
	Reason     string    `json:"reason"`
	ReasonText string    `json:"reasonText"`
	Intent     string    `json:"intent,omitempty"`
	At         time.Time `json:"at"`
}

// handoffWords are the handoff triggers (chat.HandoffReason) as an agent
// reads them in the inbox: "Handed off by <bot>: <words>".
var handoffWords = map[chat.HandoffReason]string{
	chat.HandoffAssignTo:     "the bot asked for a person",
	chat.HandoffAssignTeam:   "the bot asked for a team",
	chat.HandoffBotGaveUp:    "the bot could not help",
	chat.HandoffBotFailed:    "the bot failed to answer",
	chat.HandoffContactAsked: "the contact asked for a human",
	chat.HandoffTakeOver:     "an agent took over",
}

// HandoffReasonText is a handoff reason in plain words.
func HandoffReasonText(reason string) string {
	if w, ok := handoffWords[chat.HandoffReason(reason)]; ok {
		return w
	}
	return "handed off (" + reason + ")"
}

// BotContext returns the bot side of a conversation for staff.
func (s *Service) BotContext(ctx context.Context, actor Actor, conversationID string) (*BotContext, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	conv, err := s.GetConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, err
	}
	out := &BotContext{SessionAttributes: map[string]string{}}
	h, ok, err := s.store.LastHandoff(ctx, actor.AppID, conv.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		out.LastHandoff = &HandoffInfo{BotID: h.BotID, Reason: h.Reason, ReasonText: HandoffReasonText(h.Reason), Intent: h.Intent, At: h.At}
		out.BotID, out.LastIntent = h.BotID, h.Intent
	}
	// The bot that holds the conversation now speaks for it; otherwise the
	// one that handed it off.
	if a := conv.Assignee; a != nil && a.Type == chat.AssigneeBot {
		out.BotID = a.ID
		if ok && h.BotID != a.ID {
			out.LastIntent = ""
		}
	}
	if out.BotID == "" {
		return out, nil
	}
	intent, ok, err := s.store.BotIntent(ctx, actor.AppID, conv.ID, out.BotID)
	if err != nil {
		return nil, err
	}
	if ok {
		out.LastIntent = intent
	}
	state, _, err := s.store.GetBotState(ctx, actor.AppID, conv.ID, out.BotID)
	if err != nil {
		return nil, err
	}
	// Connectors own their state's shape; session attributes are the part
	// worth showing, under the name the Lex connector gives them.
	var st struct {
		SessionAttributes map[string]string `json:"sessionAttributes"`
	}
	if len(state) > 0 && json.Unmarshal(state, &st) == nil && st.SessionAttributes != nil {
		out.SessionAttributes = st.SessionAttributes
	}
	return out, nil
}
