package realtime

import (
	"encoding/json"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Frame types. They are a public protocol (docs/realtime.md): add, never
// rename.
const (
	// client → server
	frameSubscribe        = "subscribe"
	frameUnsubscribe      = "unsubscribe"
	frameSend             = "send"
	frameTyping           = "typing"
	frameSubscribeInbox   = "subscribe_inbox"
	frameUnsubscribeInbox = "unsubscribe_inbox"
	framePing             = "ping"

	// server → client
	frameSubscribed      = "subscribed"
	frameUnsubscribed    = "unsubscribed"
	frameInboxSubscribed = "inbox_subscribed"
	frameMessage         = "message"
	frameAck             = "ack"
	frameError           = "error"
	frameConvUpdated     = "conversation.updated"
	frameConvStatus      = "conversation.status"
	framePresence        = "presence"
	frameAgentsOnline    = "agents_online"
	framePong            = "pong"
)

// clientFrame is every client frame in one struct: the protocol is small
// enough that one strict decode (unknown fields refused, as the REST API
// does) followed by a per-type check is simpler than two-stage decoding.
type clientFrame struct {
	Type           string                  `json:"type"`
	ID             string                  `json:"id"`
	ConversationID string                  `json:"conversationId"`
	AfterSeq       *int64                  `json:"afterSeq"`
	ClientKey      string                  `json:"clientKey"`
	Text           string                  `json:"text"`
	ContentType    chat.ContentType        `json:"contentType"`
	Metadata       chat.Metadata           `json:"metadata"`
	Attachments    []service.AttachmentRef `json:"attachments"`
	Location       *chat.Location          `json:"location"`
	Sender         *chat.Sender            `json:"sender"`
	Typing         *bool                   `json:"typing"`
}

// maxRequestID bounds the echoed request id, which the server holds only
// while it answers.
const maxRequestID = 64

// decodeFrame parses and checks one client frame. The error is what the
// client is told; it never closes the connection by itself.
func decodeFrame(data []byte) (clientFrame, error) {
	var f clientFrame
	if err := httpx.Unmarshal(data, &f); err != nil {
		return clientFrame{}, err
	}
	if len(f.ID) > maxRequestID {
		return f, chat.FieldError("id", "id must be at most %d bytes", maxRequestID)
	}
	switch f.Type {
	case framePing, frameSubscribeInbox, frameUnsubscribeInbox:
	case frameSubscribe, frameUnsubscribe, frameSend, frameTyping:
		if err := chat.ValidateID("conversationId", f.ConversationID); err != nil {
			return f, err
		}
	case "":
		return f, chat.FieldError("type", "type is required")
	default:
		return f, chat.FieldError("type", "unknown frame type %q", f.Type).WithDetail("type", f.Type)
	}
	if f.AfterSeq != nil && *f.AfterSeq < 0 {
		return f, chat.FieldError("afterSeq", "afterSeq must be 0 or more")
	}
	if f.Type == frameTyping && f.Typing == nil {
		return f, chat.FieldError("typing", "typing (true or false) is required")
	}
	return f, nil
}

// Server frames. Each is marshalled once and the bytes are shared by every
// connection that receives them.

type subscribedFrame struct {
	Type           string `json:"type"`
	ID             string `json:"id,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
	Seq            int64  `json:"seq"`
}

type messageFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	Seq            int64  `json:"seq"`
	Message        any    `json:"message"`
}

type ackFrame struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	ClientKey string `json:"clientKey"`
	Seq       int64  `json:"seq"`
	MessageID string `json:"messageId"`
}

type errorFrame struct {
	Type           string            `json:"type"`
	ID             string            `json:"id,omitempty"`
	ClientKey      string            `json:"clientKey,omitempty"`
	ConversationID string            `json:"conversationId,omitempty"`
	Error          httpx.ErrorDetail `json:"error"`
}

type typingFrame struct {
	Type           string      `json:"type"`
	ConversationID string      `json:"conversationId"`
	Sender         chat.Sender `json:"sender"`
	Typing         bool        `json:"typing"`
}

type inboxFrame struct {
	Type         string         `json:"type"`
	Seq          int64          `json:"seq"`
	Kind         chat.InboxKind `json:"kind"`
	Conversation any            `json:"conversation"`
}

// statusFrame tells a contact that one of its conversations changed status
// or hands: the widget's resolved banner, CSAT prompt and "Talk to a human"
// button follow it. It carries the state, not the change, so the last one
// received is the truth, and only what the contact may see: no notes,
// metadata or agent details.
type statusFrame struct {
	Type           string       `json:"type"`
	ConversationID string       `json:"conversationId"`
	Conversation   contactState `json:"conversation"`
}

type contactState struct {
	ID         string          `json:"id"`
	Status     chat.Status     `json:"status"`
	StatusName string          `json:"statusName"`
	Assignee   *assigneeOfKind `json:"assignee"`
}

type assigneeOfKind struct {
	Type chat.AssigneeType `json:"type"`
}

type presenceFrame struct {
	Type      string        `json:"type"`
	AgentID   string        `json:"agentId"`
	Status    chat.Presence `json:"status"`
	Connected bool          `json:"connected"`
}

type agentsOnlineFrame struct {
	Type   string `json:"type"`
	Online bool   `json:"online"`
}

type simpleFrame struct {
	Type           string `json:"type"`
	ID             string `json:"id,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
}

// typingData is the Data of a bus typing event.
type typingData struct {
	Sender chat.Sender `json:"sender"`
	Typing bool        `json:"typing"`
}

// presenceData is the Data of a bus presence event. The service sends
// agentId and status on a manual change; gateways send agentId and
// connected. Receivers read the truth from the store either way.
type presenceData struct {
	AgentID   string `json:"agentId"`
	Status    string `json:"status,omitempty"`
	Connected *bool  `json:"connected,omitempty"`
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every frame is built from types that always marshal.
		panic("realtime: encoding a frame: " + err.Error())
	}
	return b
}

func errorBytes(id, clientKey, convID string, err error) []byte {
	pub := httpx.Public(err)
	details := pub.Details
	if details == nil {
		details = map[string]any{}
	}
	return encode(errorFrame{Type: frameError, ID: id, ClientKey: clientKey, ConversationID: convID,
		Error: httpx.ErrorDetail{Code: pub.Code, Message: pub.Message, Details: details}})
}
