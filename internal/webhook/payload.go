package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// envelope is the Standard Webhooks body: type, timestamp, data.
// message.created leaves timestamp out: its Kommunicate field timeStamp
// says the same, and two keys that differ only in case confuse decoders
// that match keys without regard to case (Go's among them).
type envelope struct {
	Type      EventType  `json:"type"`
	Timestamp *time.Time `json:"timestamp,omitempty"`
	Data      any        `json:"data"`
}

// kommunicateMessage adds, beside the envelope, the fields of Kommunicate's
// message webhook, so a receiver written for Kommunicate reads the same
// names.
type kommunicateMessage struct {
	envelope
	Key           string           `json:"key"`
	From          string           `json:"from"`
	GroupID       string           `json:"groupId"`
	ClientGroupID string           `json:"clientGroupId"`
	GroupName     string           `json:"groupName"`
	Message       string           `json:"message"`
	TimeStamp     int64            `json:"timeStamp"`
	File          *kommunicateFile `json:"file"`
	Metadata      chat.Metadata    `json:"metadata"`
}

type kommunicateFile struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	UploadID    string `json:"uploadId"`
}

// Conversation metadata keys the Kommunicate-compatible API fills.
const (
	metaClientGroupID = "clientGroupId"
	metaTitle         = "KM_CONVERSATION_TITLE"
)

func newEvent(appID, convID string, t EventType, at time.Time, body any) (Event, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Event{}, fmt.Errorf("webhook: encode %s: %w", t, err)
	}
	return Event{ID: chat.NewID(), AppID: appID, Type: t, ConversationID: convID, Body: b, CreatedAt: at}, nil
}

// MessageEvent is message.created for m, in conversation meta's metadata.
func MessageEvent(m *chat.Message, convMeta chat.Metadata) (Event, error) {
	body := kommunicateMessage{
		envelope:      envelope{Type: MessageCreated, Data: m},
		Key:           m.ID,
		From:          m.Sender.ID,
		GroupID:       m.ConversationID,
		ClientGroupID: convMeta[metaClientGroupID],
		GroupName:     convMeta[metaTitle],
		Message:       m.Text,
		TimeStamp:     m.CreatedAt.UnixMilli(),
		Metadata:      m.Metadata,
	}
	if body.Metadata == nil {
		body.Metadata = chat.Metadata{}
	}
	if len(m.Attachments) > 0 {
		a := m.Attachments[0]
		body.File = &kommunicateFile{Name: a.Name, ContentType: a.MimeType, Size: a.Size, UploadID: a.UploadID}
	}
	return newEvent(m.AppID, m.ConversationID, MessageCreated, m.CreatedAt, body)
}

// conversationData is the data of the conversation.* events: the
// conversation as it is after the change, and what it was before.
type conversationData struct {
	Conversation *chat.Conversation `json:"conversation"`
	Previous     *previous          `json:"previous,omitempty"`
}

type previous struct {
	Status   chat.Status    `json:"status"`
	Assignee *chat.Assignee `json:"assignee"`
}

// ConversationEvents are the events one change to a conversation causes:
// conversation.created when before is nil; otherwise
// conversation.assigned when the assignee changed and
// conversation.status_changed when the status did (both when both did).
func ConversationEvents(before, after *chat.Conversation) ([]Event, error) {
	var types []EventType
	var prev *previous
	switch {
	case before == nil:
		types = []EventType{ConversationCreated}
	default:
		prev = &previous{Status: before.Status, Assignee: before.Assignee}
		if !sameAssignee(before.Assignee, after.Assignee) {
			types = append(types, ConversationAssigned)
		}
		if before.Status != after.Status {
			types = append(types, ConversationStatusChanged)
		}
	}
	out := make([]Event, 0, len(types))
	for _, t := range types {
		e, err := newEvent(after.AppID, after.ID, t, after.UpdatedAt, envelope{Type: t, Timestamp: &after.UpdatedAt,
			Data: conversationData{Conversation: after, Previous: prev}})
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func sameAssignee(a, b *chat.Assignee) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// handoffData is conversation.handed_off's data.
type handoffData struct {
	ConversationID string `json:"conversationId"`
	BotID          string `json:"botId"`
	// Reason is the trigger (chat.HandoffReason); Intent the bot's last
	// understood intent, when it had one.
	Reason string `json:"reason"`
	Intent string `json:"intent,omitempty"`
}

// csatData is csat.submitted's data.
type csatData struct {
	ConversationID string `json:"conversationId"`
	Rating         int64  `json:"rating"`
	Comment        string `json:"comment,omitempty"`
	BotID          string `json:"botId,omitempty"`
	AgentID        string `json:"agentId,omitempty"`
}

// AnalyticsEvents maps a newly recorded analytics fact to its webhook
// event: a handoff and a CSAT rating have one; other facts have none.
func AnalyticsEvents(a *chat.AnalyticsEvent) ([]Event, error) {
	var t EventType
	var data any
	switch a.Kind {
	case chat.AnalyticsHandedOff:
		t, data = ConversationHandedOff, handoffData{ConversationID: a.ConversationID, BotID: a.BotID, Reason: a.Reason, Intent: a.Intent}
	case chat.AnalyticsCSAT:
		t, data = CSATSubmitted, csatData{ConversationID: a.ConversationID, Rating: a.Value, Comment: a.Comment, BotID: a.BotID, AgentID: a.AgentID}
	default:
		return nil, nil
	}
	e, err := newEvent(a.AppID, a.ConversationID, t, a.At, envelope{Type: t, Timestamp: &a.At, Data: data})
	if err != nil {
		return nil, err
	}
	return []Event{e}, nil
}
