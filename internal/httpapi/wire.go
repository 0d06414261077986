package httpapi

import (
	"encoding/json"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// The API's response shapes. They are declared here, not taken straight from
// the domain types, because the wire is a public contract (external tools
// depend on it and openapi.json documents it) that must not move when a
// domain struct gains a field, and because some fields exist only on the
// wire (statusName, signed attachment URLs).

type conversationJSON struct {
	ID         string         `json:"id"`
	Status     chat.Status    `json:"status"`
	StatusName string         `json:"statusName"`
	Assignee   *chat.Assignee `json:"assignee"`
	TeamID     *string        `json:"teamId"`
	ContactID  string         `json:"contactId"`
	Metadata   chat.Metadata  `json:"metadata"`
	LastSeq    int64          `json:"lastSeq"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
}

func toConversation(c *chat.Conversation) conversationJSON {
	out := conversationJSON{
		ID: c.ID, Status: c.Status, StatusName: c.Status.String(), Assignee: c.Assignee,
		ContactID: c.ContactID, Metadata: c.Metadata, LastSeq: c.LastSeq,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.TeamID != "" {
		team := c.TeamID
		out.TeamID = &team
	}
	return out
}

type attachmentJSON struct {
	UploadID string `json:"uploadId"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
	URL      string `json:"url"`
}

type messageJSON struct {
	ID             string           `json:"id"`
	ConversationID string           `json:"conversationId"`
	Seq            int64            `json:"seq"`
	Sender         chat.Sender      `json:"sender"`
	Text           string           `json:"text"`
	ContentType    chat.ContentType `json:"contentType"`
	Metadata       chat.Metadata    `json:"metadata"`
	Attachments    []attachmentJSON `json:"attachments"`
	Location       *chat.Location   `json:"location,omitempty"`
	ClientKey      string           `json:"clientKey,omitempty"`
	CreatedAt      time.Time        `json:"createdAt"`
}

// toMessage signs each attachment's URL afresh: links expire, so a URL
// stored with the message would soon be dead.
func (s *server) toMessage(m *chat.Message) messageJSON {
	return messageWire(m, s.fileURL)
}

// MessageJSON returns m in exactly the shape the REST API sends, for the
// realtime gateway, whose message frames must match it. fileURL makes an
// attachment's absolute, signed URL.
func MessageJSON(m *chat.Message, fileURL func(appID, uploadID string) string) any {
	return messageWire(m, fileURL)
}

// ConversationJSON returns c in exactly the shape the REST API sends.
func ConversationJSON(c *chat.Conversation) any { return toConversation(c) }

func messageWire(m *chat.Message, fileURL func(appID, uploadID string) string) messageJSON {
	out := messageJSON{
		ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Sender: m.Sender, Text: m.Text,
		ContentType: m.ContentType, Metadata: m.Metadata, Location: m.Location,
		ClientKey: m.ClientKey, CreatedAt: m.CreatedAt,
		Attachments: make([]attachmentJSON, 0, len(m.Attachments)),
	}
	for _, a := range m.Attachments {
		out.Attachments = append(out.Attachments, attachmentJSON{
			UploadID: a.UploadID, Name: a.Name, MimeType: a.MimeType, Size: a.Size,
			URL: fileURL(m.AppID, a.UploadID),
		})
	}
	return out
}

func (s *server) fileURL(appID, uploadID string) string {
	return s.publicURL + s.svc.FileURL(appID, uploadID)
}

type teamJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	AgentIDs  []string  `json:"agentIds"`
	CreatedAt time.Time `json:"createdAt"`
}

func toTeam(t *chat.Team) teamJSON {
	ids := t.AgentIDs
	if ids == nil {
		ids = []string{}
	}
	return teamJSON{ID: t.ID, Name: t.Name, AgentIDs: ids, CreatedAt: t.CreatedAt}
}

type agentJSON struct {
	ID        string        `json:"id"`
	AppID     string        `json:"appId"`
	Email     string        `json:"email"`
	Name      string        `json:"name"`
	Role      chat.Role     `json:"role"`
	Presence  chat.Presence `json:"presence"`
	CreatedAt time.Time     `json:"createdAt"`
}

func toAgent(a *chat.Agent) agentJSON {
	return agentJSON{ID: a.ID, AppID: a.AppID, Email: a.Email, Name: a.Name, Role: a.Role, Presence: a.Presence, CreatedAt: a.CreatedAt}
}

type contactJSON struct {
	ID          string          `json:"id"`
	UserID      string          `json:"userId,omitempty"`
	Name        string          `json:"name,omitempty"`
	Email       string          `json:"email,omitempty"`
	Language    string          `json:"language,omitempty"`
	ChatContext json.RawMessage `json:"chatContext"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

func toContact(c *chat.Contact) contactJSON {
	ctx := c.ChatContext
	if len(ctx) == 0 || string(ctx) == "null" {
		ctx = json.RawMessage("{}")
	}
	return contactJSON{ID: c.ID, UserID: c.UserID, Name: c.Name, Email: c.Email, Language: c.Language, ChatContext: ctx, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type apiKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	// Key is the secret, present only in the answer that created it.
	Key string `json:"key,omitempty"`
}

func toAPIKey(k *chat.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}

type uploadJSON struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
}

type appJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}
