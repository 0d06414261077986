package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// WidgetSessionInput is what the widget sends to become a contact of an app.
// An identified user has a UserID (and, when the app enforces identity
// verification, a UserHash); an anonymous visitor has a VisitorID, a random
// id the widget keeps in the browser so that the visitor stays the same
// contact across visits.
type WidgetSessionInput struct {
	AppID       string          `json:"appId"`
	UserID      string          `json:"userId"`
	VisitorID   string          `json:"visitorId"`
	UserName    string          `json:"userName"`
	Email       string          `json:"email"`
	UserHash    string          `json:"userHash"`
	AccessToken string          `json:"accessToken"`
	Language    string          `json:"language"`
	ChatContext json.RawMessage `json:"chatContext"`
}

// WidgetSession is a contact and the token that lets its browser act as it.
type WidgetSession struct {
	Contact   *chat.Contact
	Token     string
	ExpiresAt time.Time
	Anonymous bool
	Settings  chat.WidgetSettings
}

// visitorPrefix marks anonymous contacts' user ids. Identified user ids may
// not start with it, so no integration can claim a visitor's contact and no
// visitor can claim an identified user by picking a visitor id.
const visitorPrefix = "visitor:"

var visitorIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

var errUserHash = chat.Errorf(chat.CodeUnauthenticated, "userHash does not match userId: sign the user id with the app's identity secret (HMAC-SHA256, hex)")

// IdentitySecret is the app's key for identity verification: a user's
// userHash is hex(HMAC-SHA256(secret, userId)), computed by the app's own
// server. It is derived from the installation's widget key rather than
// stored, so it needs no storage and never leaves the server except to the
// app's admins.
func (s *Service) IdentitySecret(appID string) string {
	m := hmac.New(sha256.New, s.keys.WidgetKey())
	m.Write([]byte("switchboard/identity-secret/v1|" + appID))
	return hex.EncodeToString(m.Sum(nil))
}

// UserHash is the userHash the app's server must send for userID.
func UserHash(secret, userID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

// StartWidgetSession makes the widget's browser a contact of an app: it
// finds or creates the contact and signs a contact token for it. Nothing
// is created when the input is refused.
func (s *Service) StartWidgetSession(ctx context.Context, in WidgetSessionInput) (*WidgetSession, error) {
	if err := chat.ValidateID("appId", in.AppID); err != nil {
		return nil, chat.NotFound("app")
	}
	if _, err := s.store.GetApp(ctx, in.AppID); err != nil {
		return nil, err
	}
	settings, err := s.widgetSettings(ctx, in.AppID)
	if err != nil {
		return nil, err
	}
	ci := ContactInput{Name: in.UserName, Email: in.Email, Language: in.Language, ChatContext: in.ChatContext}
	anonymous := in.UserID == ""
	switch {
	case !anonymous && in.VisitorID != "":
		return nil, chat.FieldError("visitorId", "send either userId (an identified user) or visitorId (an anonymous visitor), not both")
	case anonymous:
		if !visitorIDPattern.MatchString(in.VisitorID) {
			return nil, chat.FieldError("visitorId", "visitorId is required without userId: 16 to 64 letters, digits, - or _")
		}
		ci.UserID = visitorPrefix + in.VisitorID
	default:
		if err := chat.ValidateUserID("userId", in.UserID); err != nil {
			return nil, err
		}
		if strings.HasPrefix(in.UserID, visitorPrefix) {
			return nil, chat.FieldError("userId", "userId must not start with %q, which marks anonymous visitors", visitorPrefix)
		}
		if settings.IdentityVerification && !checkUserHash(s.IdentitySecret(in.AppID), in.UserID, in.UserHash) {
			return nil, errUserHash
		}
		if settings.AccessTokenURL != "" {
			if err := s.checkAccessToken(ctx, settings.AccessTokenURL, in.UserID, in.AccessToken); err != nil {
				s.log.InfoContext(ctx, "widget access token refused", "app", in.AppID, "err", err)
				return nil, err
			}
		}
		ci.UserID = in.UserID
	}
	contact, err := s.ensureContact(ctx, in.AppID, ci)
	if err != nil {
		return nil, err
	}
	if anonymous && contact.Name == "" {
		name := Pseudonym(in.VisitorID)
		if contact, err = s.store.UpdateContact(ctx, in.AppID, contact.ID, store.ContactUpdate{Name: &name}); err != nil {
			return nil, err
		}
	}
	exp := s.now().Add(auth.ContactTokenTTL).Truncate(time.Second)
	settings.AccessTokenURL = ""
	return &WidgetSession{
		Contact:   contact,
		Token:     s.keys.ContactToken(in.AppID, contact.ID, exp),
		ExpiresAt: exp,
		Anonymous: anonymous,
		Settings:  settings,
	}, nil
}

// newAccessTokenClient asks apps' Access Token URLs. A slow one must not
// hold a visitor's request for long, and since an admin chooses the URL it
// dials through the webhook bots' guard: unless the operator allows it,
// the URL cannot make the node call its own loopback or private network
// (or the cloud metadata service). Redirects are not followed, for the same
// reason.
func newAccessTokenClient(allowPrivate bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		d.Control = webhookbot.GuardControl
	}
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var errAccessToken = chat.Errorf(chat.CodeUnauthenticated, "the app's access token URL did not accept this user's accessToken")

// checkAccessToken is Kommunicate's Access Token URL contract: POST
// {"userId","token"} as JSON, and a 2xx answer whose body is "true".
func (s *Service) checkAccessToken(ctx context.Context, endpoint, userID, token string) error {
	if token == "" || len(token) > 4096 {
		return chat.FieldError("accessToken", "accessToken is required by this app (at most 4096 bytes)")
	}
	body, _ := json.Marshal(map[string]string{"userId": userID, "token": token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.accessToken.Do(req)
	if webhookbot.IsPrivateAddress(err) {
		return &chat.Error{Code: chat.CodeUnavailable, Message: "the app's access token URL is on a private or loopback address, which this node does not call (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE)", Cause: err}
	}
	if err != nil {
		return &chat.Error{Code: chat.CodeUnavailable, Message: "the app's access token URL could not be reached", Cause: err}
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64))
	if res.StatusCode/100 != 2 || !strings.EqualFold(strings.TrimSpace(string(answer)), "true") {
		return errAccessToken
	}
	return nil
}

func checkUserHash(secret, userID, presented string) bool {
	got, err := hex.DecodeString(strings.ToLower(presented))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	want, _ := hex.DecodeString(UserHash(secret, userID))
	return hmac.Equal(got, want)
}

var (
	pseudoAdjectives = []string{"Amber", "Brave", "Calm", "Clever", "Cosmic", "Gentle", "Golden", "Happy", "Jolly", "Kind", "Lucky", "Mellow", "Misty", "Quiet", "Rapid", "Silver", "Sunny", "Swift", "Witty", "Zesty"}
	pseudoAnimals    = []string{"Badger", "Dolphin", "Falcon", "Fox", "Heron", "Koala", "Lynx", "Marten", "Otter", "Owl", "Panda", "Puffin", "Raven", "Robin", "Seal", "Sparrow", "Tiger", "Turtle", "Walrus", "Wren"}
)

// Pseudonym is the friendly name an anonymous visitor gets, the same for
// the same visitor id, so agents can tell visitors apart at a glance.
func Pseudonym(visitorID string) string {
	h := fnv.New32a()
	h.Write([]byte(visitorID))
	n := h.Sum32()
	adj := pseudoAdjectives[n%uint32(len(pseudoAdjectives))]
	animal := pseudoAnimals[(n/uint32(len(pseudoAdjectives)))%uint32(len(pseudoAnimals))]
	return adj + " " + animal
}

func (s *Service) widgetSettings(ctx context.Context, appID string) (chat.WidgetSettings, error) {
	r, err := s.store.GetAppRules(ctx, appID)
	if err != nil {
		return chat.WidgetSettings{}, err
	}
	w := r.Widget
	if err := w.Normalize(); err != nil {
		// A stored value that no longer validates falls back to the
		// defaults rather than breaking every visitor's widget.
		// The CSAT choice is kept when it is valid: "off" also refuses
		// contacts' ratings, which a broken colour must not switch back on.
		w = chat.WidgetSettings{IdentityVerification: r.Widget.IdentityVerification, TalkToHuman: r.Widget.TalkToHuman}
		if c := r.Widget.CSAT; c == chat.CSATStars || c == chat.CSATOff {
			w.CSAT = c
		}
		_ = w.Normalize()
	}
	return w, nil
}

// WidgetSettingsView is the admin's view of the widget settings, with the
// identity secret the app's server signs user ids with.
type WidgetSettingsView struct {
	chat.WidgetSettings
	IdentitySecret string `json:"identitySecret"`
}

// GetWidgetSettings returns the app's widget settings to an admin.
func (s *Service) GetWidgetSettings(ctx context.Context, actor Actor) (*WidgetSettingsView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	w, err := s.widgetSettings(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	return &WidgetSettingsView{WidgetSettings: w, IdentitySecret: s.IdentitySecret(actor.AppID)}, nil
}

// PutWidgetSettings replaces the app's widget settings.
func (s *Service) PutWidgetSettings(ctx context.Context, actor Actor, in chat.WidgetSettings) (*WidgetSettingsView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	saved, err := s.store.UpdateAppRules(ctx, actor.AppID, func(r *store.AppRules) error {
		r.Widget = in
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "widget settings saved", "app", actor.AppID, "identity_verification", saved.Widget.IdentityVerification)
	return &WidgetSettingsView{WidgetSettings: saved.Widget, IdentitySecret: s.IdentitySecret(actor.AppID)}, nil
}

// errNotContact refuses staff on the widget's "my …" routes, which have no
// meaning for anyone but a contact.
var errNotContact = chat.Errorf(chat.CodeForbidden, "this route is for the widget: authenticate with a contact token")

// asStaff is the service's own authority over a contact's app, for use
// cases that contacts may trigger only on their own behalf.
func asStaff(appID string) Actor { return Actor{AppID: appID, Role: chat.RoleAgent} }

// WidgetConversations lists the contact's own conversations, newest first.
func (s *Service) WidgetConversations(ctx context.Context, actor Actor) ([]chat.Conversation, error) {
	if actor.ContactID == "" {
		return nil, errNotContact
	}
	page, err := s.store.ListConversations(ctx, actor.AppID, store.ConversationFilter{ContactID: actor.ContactID, Limit: store.MaxPageSize})
	if err != nil {
		return nil, err
	}
	return page.Conversations, nil
}

// WidgetConversationInput is a contact's request for a new conversation,
// with the options of Kommunicate's startConversation.
type WidgetConversationInput struct {
	// BotIDs names the bots to talk to; the first answers. Naming a bot
	// places the conversation with it, as skipRouting with that assignee.
	BotIDs             []string      `json:"botIds"`
	TeamID             string        `json:"teamId"`
	SkipRouting        bool          `json:"skipRouting"`
	SkipBotEvent       bool          `json:"skipBotEvent"`
	CustomWelcomeEvent string        `json:"customWelcomeEvent"`
	Metadata           chat.Metadata `json:"metadata"`
}

// MaxWidgetBotIDs bounds botIds; a conversation has one bot at a time.
const MaxWidgetBotIDs = 10

// WidgetStartConversation opens a conversation for the contact itself.
func (s *Service) WidgetStartConversation(ctx context.Context, actor Actor, in WidgetConversationInput) (*chat.Conversation, error) {
	if actor.ContactID == "" {
		return nil, errNotContact
	}
	if len(in.BotIDs) > MaxWidgetBotIDs {
		return nil, chat.FieldError("botIds", "botIds may name at most %d bots", MaxWidgetBotIDs)
	}
	nc := NewConversation{
		ContactID: actor.ContactID, TeamID: in.TeamID, SkipRouting: in.SkipRouting,
		SkipBotEvent: in.SkipBotEvent, CustomWelcomeEvent: in.CustomWelcomeEvent, Metadata: in.Metadata,
	}
	for i, id := range in.BotIDs {
		if err := chat.ValidateID("botIds", id); err != nil {
			return nil, err
		}
		if i == 0 {
			nc.Assignee = &chat.Assignee{Type: chat.AssigneeBot, ID: id}
		}
	}
	c, err := s.StartConversation(ctx, asStaff(actor.AppID), nc)
	// The widget named bots, not an assignee: say so in its terms.
	if e := (*chat.Error)(nil); errors.As(err, &e) && e.Code == chat.CodeInvalid && e.Details["field"] == "assignee.id" {
		return nil, chat.FieldError("botIds", "no such bot in this app")
	}
	return c, err
}

// WidgetUpdateMe changes the contact's own name, email, language or chat
// context, as the widget's updateUser, updateUserLanguage and
// updateChatContext do.
func (s *Service) WidgetUpdateMe(ctx context.Context, actor Actor, p ContactPatch) (*chat.Contact, error) {
	if actor.ContactID == "" {
		return nil, errNotContact
	}
	return s.UpdateContact(ctx, asStaff(actor.AppID), actor.ContactID, p)
}

// WidgetMe returns the contact itself.
func (s *Service) WidgetMe(ctx context.Context, actor Actor) (*chat.Contact, error) {
	if actor.ContactID == "" {
		return nil, errNotContact
	}
	return s.store.GetContact(ctx, actor.AppID, actor.ContactID)
}

// Participant is how a bot or an agent appears to contacts: a name and an
// avatar, nothing more.
type Participant struct {
	Type      chat.SenderType
	ID        string
	Name      string
	AvatarURL string
}

// WidgetParticipants lists the app's bots and agents as contacts see them.
func (s *Service) WidgetParticipants(ctx context.Context, appID string) ([]Participant, error) {
	bots, err := s.store.ListBots(ctx, appID)
	if err != nil {
		return nil, err
	}
	agents, err := s.store.ListAgents(ctx, appID)
	if err != nil {
		return nil, err
	}
	out := make([]Participant, 0, len(bots)+len(agents))
	for _, b := range bots {
		out = append(out, Participant{Type: chat.SenderBot, ID: b.ID, Name: b.Name, AvatarURL: b.AvatarURL})
	}
	for _, a := range agents {
		out = append(out, Participant{Type: chat.SenderAgent, ID: a.ID, Name: a.Name})
	}
	return out, nil
}

// WidgetClickInput reports a press on a rich message: the message by its
// seq, the element by its JSON Pointer (see richmsg.Click), a form's values,
// and the clientKey that makes a repeated report one message.
type WidgetClickInput struct {
	Seq       int64               `json:"seq"`
	Path      string              `json:"path"`
	Values    map[string][]string `json:"values"`
	ClientKey string              `json:"clientKey"`
}

// WidgetClickResult is the contact message the click became, or the link it
// opens (which sends nothing).
type WidgetClickResult struct {
	Message *chat.Message
	Created bool
	Link    string
}

// WidgetClick turns a press on a rich message of the contact's conversation
// into the contact's message, as richmsg.ClickToMessage resolves it: the
// text and metadata come from the stored message, never from the browser,
// so a contact cannot "click" what the bot or agent never offered. A quick
// reply's updateLanguage changes the contact's language first, so the bot
// answers the click in the new language.
func (s *Service) WidgetClick(ctx context.Context, actor Actor, convID string, in WidgetClickInput) (*WidgetClickResult, error) {
	conv, err := s.GetConversation(ctx, actor, convID)
	if err != nil {
		return nil, err
	}
	if actor.ContactID == "" {
		return nil, errNotContact
	}
	if in.Seq < 1 || in.Seq > conv.LastSeq {
		return nil, chat.FieldError("seq", "seq must name a message of this conversation")
	}
	msgs, err := s.store.ListMessages(ctx, actor.AppID, conv.ID, in.Seq-1, 1)
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 || msgs[0].Seq != in.Seq {
		return nil, chat.FieldError("seq", "seq must name a message of this conversation")
	}
	if msgs[0].Sender.Type == chat.SenderContact {
		return nil, chat.FieldError("seq", "a contact's own message has nothing to click")
	}
	cm, err := richmsg.ClickToMessage(msgs[0].Metadata, richmsg.Click{Path: in.Path, Values: in.Values})
	if err != nil {
		return nil, err
	}
	if cm.Link != "" {
		return &WidgetClickResult{Link: cm.Link}, nil
	}
	if cm.Language != "" {
		lang := cm.Language
		if _, err := s.UpdateContact(ctx, asStaff(actor.AppID), actor.ContactID, ContactPatch{Language: &lang}); err != nil {
			return nil, err
		}
	}
	m, created, err := s.SendMessage(ctx, actor, conv.ID, SendInput{Text: cm.Text, Metadata: cm.Metadata, ClientKey: in.ClientKey})
	if err != nil {
		return nil, err
	}
	return &WidgetClickResult{Message: m, Created: created}, nil
}
