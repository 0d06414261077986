package chat

import (
	"encoding/json"
	"time"
)

// App is a tenant (a workspace). Every other entity belongs to exactly one.
type App struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// Role is an agent's permission level; each role can do what the ones below it can.
type Role string

const (
	RoleAgent Role = "agent"
	RoleAdmin Role = "admin"
	RoleOwner Role = "owner"
)

var roleRank = map[Role]int{RoleAgent: 1, RoleAdmin: 2, RoleOwner: 3}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// AtLeast reports whether r has every permission of min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && roleRank[r] >= roleRank[min] }

// Presence is whether an agent can take chats now. Routing reads it.
type Presence string

const (
	PresenceOnline  Presence = "online"
	PresenceAway    Presence = "away"
	PresenceOffline Presence = "offline"
)

// Valid reports whether p is a known presence.
func (p Presence) Valid() bool {
	return p == PresenceOnline || p == PresenceAway || p == PresenceOffline
}

// Agent is a human user of the dashboard.
type Agent struct {
	ID        string    `json:"id"`
	AppID     string    `json:"appId"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Presence  Presence  `json:"presence"`
	CreatedAt time.Time `json:"createdAt"`
	// PasswordHash is an encoded argon2id hash; it never leaves the server.
	PasswordHash string `json:"-"`
}

// BotType names the connector a bot talks through.
type BotType string

const (
	BotLex     BotType = "lex"
	BotWebhook BotType = "webhook"
)

// Valid reports whether t is a known bot type.
func (t BotType) Valid() bool { return t == BotLex || t == BotWebhook }

// Bot is an AI agent. Connector settings are opaque here: the connector
// packages own their shape, and secrets inside are encrypted before storage.
type Bot struct {
	ID        string  `json:"id"`
	AppID     string  `json:"appId"`
	Type      BotType `json:"type"`
	Name      string  `json:"name"`
	AvatarURL string  `json:"avatarUrl,omitempty"`
	Enabled   bool    `json:"enabled"`
	// AutoHandoff asks for a human when the bot gives up, fails or times
	// out; off, the contact gets the rules' bot-fallback text instead.
	AutoHandoff bool            `json:"autoHandoff"`
	Settings    json.RawMessage `json:"-"`
	CreatedAt   time.Time       `json:"createdAt"`
	// Status is whether the bot's last contact with its service worked;
	// StatusDetail, when it did not, says why in words safe for admins.
	Status       BotStatus `json:"status"`
	StatusDetail string    `json:"statusDetail,omitempty"`
}

// BotStatus is what admins see about a bot's health.
type BotStatus string

const (
	BotStatusOK BotStatus = "ok"
	// BotStatusCredentialsInvalid: the service refused the bot's keys
	// (unknown, revoked, or lacking a permission).
	BotStatusCredentialsInvalid BotStatus = "credentials_invalid"
	// BotStatusMisconfigured: the keys work but the settings name
	// something the service does not have (a deleted alias, a disabled
	// locale) or it refused the request as invalid.
	BotStatusMisconfigured BotStatus = "misconfigured"
)

// Valid reports whether s is a known bot status.
func (s BotStatus) Valid() bool {
	return s == BotStatusOK || s == BotStatusCredentialsInvalid || s == BotStatusMisconfigured
}

// Team is a group of agents.
type Team struct {
	ID        string    `json:"id"`
	AppID     string    `json:"appId"`
	Name      string    `json:"name"`
	AgentIDs  []string  `json:"agentIds"`
	CreatedAt time.Time `json:"createdAt"`
}

// Contact is the end user talking through the widget.
type Contact struct {
	ID    string `json:"id"`
	AppID string `json:"appId"`
	// UserID is the id the customer's site knows the user by; empty for
	// anonymous visitors.
	UserID      string          `json:"userId,omitempty"`
	Name        string          `json:"name,omitempty"`
	Email       string          `json:"email,omitempty"`
	Language    string          `json:"language,omitempty"`
	ChatContext json.RawMessage `json:"chatContext,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

// AssigneeType says whether a bot or a person owns a conversation.
type AssigneeType string

const (
	AssigneeBot   AssigneeType = "bot"
	AssigneeAgent AssigneeType = "agent"
)

// Assignee is who answers a conversation.
type Assignee struct {
	Type AssigneeType `json:"type"`
	ID   string       `json:"id"`
}

// Validate checks the assignee's form (not whether the id exists).
func (a *Assignee) Validate() error {
	if a == nil {
		return nil
	}
	if a.Type != AssigneeBot && a.Type != AssigneeAgent {
		return FieldError("assignee.type", `assignee type must be "bot" or "agent"`)
	}
	if err := ValidateID("assignee.id", a.ID); err != nil {
		return err
	}
	return nil
}

// Conversation is a thread between one contact and the app.
type Conversation struct {
	ID        string    `json:"id"`
	AppID     string    `json:"appId"`
	ContactID string    `json:"contactId"`
	Status    Status    `json:"status"`
	Assignee  *Assignee `json:"assignee"`
	TeamID    string    `json:"teamId,omitempty"`
	Metadata  Metadata  `json:"metadata"`
	// LastSeq is the seq of the newest message; 0 before the first one.
	LastSeq   int64     `json:"lastSeq"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// SenderType says who wrote a message.
type SenderType string

const (
	SenderContact SenderType = "contact"
	SenderAgent   SenderType = "agent"
	SenderBot     SenderType = "bot"
	SenderSystem  SenderType = "system"
)

// Valid reports whether t is a known sender type.
func (t SenderType) Valid() bool {
	return t == SenderContact || t == SenderAgent || t == SenderBot || t == SenderSystem
}

// Sender identifies a message's author. System notices have no id.
type Sender struct {
	Type SenderType `json:"type"`
	ID   string     `json:"id,omitempty"`
}

// ContentType follows Kommunicate's numbering.
type ContentType int

const (
	ContentText       ContentType = 0
	ContentAttachment ContentType = 1
	ContentLocation   ContentType = 2
	ContentHTML       ContentType = 3
	ContentSystem     ContentType = 10
)

// Valid reports whether c is a known content type.
func (c ContentType) Valid() bool {
	switch c {
	case ContentText, ContentAttachment, ContentLocation, ContentHTML, ContentSystem:
		return true
	}
	return false
}

// Attachment is a file sent with a message. The file itself is an Upload;
// its URL is signed at the edge each time it is served.
type Attachment struct {
	UploadID string `json:"uploadId"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
}

// Location is a shared point.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Message is an immutable entry in a conversation.
type Message struct {
	ID             string       `json:"id"`
	AppID          string       `json:"appId"`
	ConversationID string       `json:"conversationId"`
	Seq            int64        `json:"seq"`
	Sender         Sender       `json:"sender"`
	Text           string       `json:"text"`
	ContentType    ContentType  `json:"contentType"`
	Metadata       Metadata     `json:"metadata"`
	Attachments    []Attachment `json:"attachments"`
	Location       *Location    `json:"location,omitempty"`
	ClientKey      string       `json:"clientKey,omitempty"`
	CreatedAt      time.Time    `json:"createdAt"`
}

// Upload is a stored file. Its bytes live in blob storage under Key.
type Upload struct {
	ID        string    `json:"id"`
	AppID     string    `json:"appId"`
	Name      string    `json:"name"`
	MimeType  string    `json:"mimeType"`
	Size      int64     `json:"size"`
	Key       string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
}

// APIKey grants an integration access to one app. Only a hash of the secret
// is kept; the secret is shown once, when the key is made.
type APIKey struct {
	ID         string     `json:"id"`
	AppID      string     `json:"appId"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// Session is a signed-in agent's browser session. The token itself is never
// stored, only its hash.
type Session struct {
	TokenHash []byte
	AppID     string
	AgentID   string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}
