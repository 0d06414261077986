package service

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// SubmitCSAT records the contact's rating of a conversation: one per
// conversation. A second, different rating is refused (CodeConflict) rather
// than replacing the first: the first answer is the one given closest to
// the experience, and a replaceable rating would let a widget loop (or a
// script) overwrite it at will. Sending the same rating and comment again
// succeeds and changes nothing, so a client that lost the answer may retry.
//
// The contact rates its own conversation; an API key may submit for it
// (an integration relaying ratings collected elsewhere). Agents may not
// rate their own work.
//
// When the app's widget CSAT setting is off, the contact's rating is
// refused (CodeConflict, detail csat: "off"): the admin chose not to ask,
// so a rating from the widget is a stale page or a hand-made request. An
// API key still may: the setting is about the widget's prompt, and an
// integration relaying ratings it collected itself was configured by the
// app's own admins.
func (s *Service) SubmitCSAT(ctx context.Context, actor Actor, convID string, in chat.CSAT) (*chat.AnalyticsEvent, error) {
	if actor.ContactID == "" && !actor.ViaAPIKey() {
		return nil, chat.Errorf(chat.CodeForbidden, "only the conversation's contact (or an API key) can rate it")
	}
	conv, err := s.GetConversation(ctx, actor, convID)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if actor.ContactID != "" {
		w, err := s.widgetSettings(ctx, conv.AppID)
		if err != nil {
			return nil, err
		}
		if w.CSAT == chat.CSATOff {
			return nil, chat.Errorf(chat.CodeConflict, "this app does not collect ratings from the widget").
				WithDetail("csat", chat.CSATOff)
		}
	}
	e := &chat.AnalyticsEvent{AppID: conv.AppID, Key: chat.CSATKey(conv.ID), Kind: chat.AnalyticsCSAT, ConversationID: conv.ID,
		Value: int64(in.Rating), Comment: in.Comment}
	if conv.Assignee != nil {
		if conv.Assignee.Type == chat.AssigneeBot {
			e.BotID = conv.Assignee.ID
		} else {
			e.AgentID = conv.Assignee.ID
		}
	}
	created, err := s.store.RecordAnalytics(ctx, e)
	if err != nil {
		return nil, err
	}
	if !created && (e.Value != int64(in.Rating) || e.Comment != in.Comment) {
		return nil, chat.Errorf(chat.CodeConflict, "this conversation has been rated already").
			WithDetail("rating", e.Value)
	}
	if created {
		s.log.InfoContext(ctx, "conversation rated", "app", conv.AppID, "conversation", conv.ID, "rating", in.Rating)
	}
	return e, nil
}
