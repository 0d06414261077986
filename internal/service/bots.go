package service

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// NewBot is the input of CreateBot. Each bot type has its own settings
// object, named after the type ("webhook" now; "lex" arrives with the Lex
// connector), so a type's form can grow without touching the others'.
type NewBot struct {
	Name                      string          `json:"name"`
	Type                      chat.BotType    `json:"type"`
	AvatarURL                 string          `json:"avatarUrl"`
	Enabled                   *bool           `json:"enabled"` // nil: enabled
	AutoHandoff               bool            `json:"autoHandoff"`
	HandleAllNewConversations bool            `json:"handleAllNewConversations"`
	Webhook                   json.RawMessage `json:"webhook"`
}

// BotPatch is the input of UpdateBot: nil fields stay as they are. The
// settings object, when present, replaces the stored one whole, except that
// a redacted secret sent back unchanged keeps the stored secret.
type BotPatch struct {
	Name                      *string         `json:"name"`
	AvatarURL                 *string         `json:"avatarUrl"`
	Enabled                   *bool           `json:"enabled"`
	AutoHandoff               *bool           `json:"autoHandoff"`
	HandleAllNewConversations *bool           `json:"handleAllNewConversations"`
	Webhook                   json.RawMessage `json:"webhook"`
}

// BotView is a bot as an admin sees it: its secrets redacted.
type BotView struct {
	Bot chat.Bot
	// HandleAll reports whether the app's rules send every new
	// conversation to this bot (it is derived from the rules, which hold
	// the one handle-all bot).
	HandleAll bool
	// Webhook is the redacted webhook settings of a webhook bot.
	Webhook *webhookbot.Settings
}

// sealedWebhook is how a webhook bot's settings are stored: the header
// value encrypted, so that a database dump or backup does not hand out the
// credential the bot's owner relies on.
type sealedWebhook struct {
	URL               string `json:"url"`
	HeaderName        string `json:"headerName,omitempty"`
	SealedHeaderValue []byte `json:"sealedHeaderValue,omitempty"`
	TimeoutSeconds    int    `json:"timeoutSeconds,omitempty"`
}

const maxAvatarURLLen = 2048

// botSecretAD binds a sealed secret to its bot, so a ciphertext copied into
// another bot's or app's row does not decrypt there.
func botSecretAD(appID, botID string) []byte {
	return []byte("bot-secret\x00" + appID + "\x00" + botID)
}

func (s *Service) sealWebhook(appID, botID string, ws webhookbot.Settings) (json.RawMessage, error) {
	out := sealedWebhook{URL: ws.URL, HeaderName: ws.HeaderName, TimeoutSeconds: ws.TimeoutSeconds}
	if ws.HeaderValue != "" {
		sealed, err := s.keys.Seal([]byte(ws.HeaderValue), botSecretAD(appID, botID))
		if err != nil {
			return nil, err
		}
		out.SealedHeaderValue = sealed
	}
	return json.Marshal(out)
}

// openWebhook decrypts stored settings. A failure is internal: it means the
// master key changed or the row was tampered with, and the message must not
// say more than that.
func (s *Service) openWebhook(b *chat.Bot) (webhookbot.Settings, error) {
	var st sealedWebhook
	if len(b.Settings) == 0 {
		// A bot made in code without settings; its connector will report
		// it as misconfigured.
		return webhookbot.Settings{}, nil
	}
	if err := json.Unmarshal(b.Settings, &st); err != nil {
		return webhookbot.Settings{}, &chat.Error{Code: chat.CodeInternal, Message: "the bot's stored settings are unreadable", Cause: err}
	}
	ws := webhookbot.Settings{URL: st.URL, HeaderName: st.HeaderName, TimeoutSeconds: st.TimeoutSeconds}
	if len(st.SealedHeaderValue) > 0 {
		pt, err := s.keys.Open(st.SealedHeaderValue, botSecretAD(b.AppID, b.ID))
		if err != nil {
			return webhookbot.Settings{}, &chat.Error{Code: chat.CodeInternal, Message: "the bot's secret cannot be decrypted (was the master key changed?)", Cause: err}
		}
		ws.HeaderValue = string(pt)
	}
	return ws, nil
}

func validateBotFields(name *string, avatar *string) error {
	if name != nil {
		if err := chat.ValidateName("name", *name, true); err != nil {
			return err
		}
	}
	if avatar != nil && *avatar != "" {
		a := *avatar
		if len(a) > maxAvatarURLLen || !utf8.ValidString(a) || strings.ContainsAny(a, " \t\r\n") ||
			!(strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "http://")) {
			return chat.FieldError("avatarUrl", "avatarUrl must be an http:// or https:// URL of at most %d bytes", maxAvatarURLLen)
		}
	}
	return nil
}

// parseWebhook validates a posted webhook object. ParseSettings refuses
// unknown fields and never quotes the secret in its errors.
func parseWebhook(raw json.RawMessage) (webhookbot.Settings, error) {
	return webhookbot.ParseSettings(raw)
}

// CreateBot adds a bot to the actor's app. Admins only: a bot's settings
// carry a credential and decide who answers the app's contacts.
func (s *Service) CreateBot(ctx context.Context, actor Actor, in NewBot) (*BotView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := validateBotFields(&in.Name, &in.AvatarURL); err != nil {
		return nil, err
	}
	switch in.Type {
	case chat.BotWebhook:
	case chat.BotLex:
		return nil, chat.FieldError("type", "Lex bots cannot be created through the API yet; use type webhook")
	default:
		return nil, chat.FieldError("type", `type must be "webhook"`)
	}
	ws, err := parseWebhook(in.Webhook)
	if err != nil {
		return nil, err
	}
	if ws.HeaderValue == webhookbot.RedactedValue {
		// There is no stored secret to keep on a new bot: the client
		// echoed a form it read elsewhere.
		return nil, chat.FieldError("webhook.headerValue", "webhook.headerValue must be the secret itself, not the redacted placeholder")
	}
	b := &chat.Bot{ID: chat.NewID(), AppID: actor.AppID, Type: in.Type, Name: in.Name, AvatarURL: in.AvatarURL,
		Enabled: in.Enabled == nil || *in.Enabled, AutoHandoff: in.AutoHandoff}
	if b.Settings, err = s.sealWebhook(b.AppID, b.ID, ws); err != nil {
		return nil, err
	}
	if err := s.store.CreateBot(ctx, b); err != nil {
		return nil, err
	}
	handleAll := false
	if in.HandleAllNewConversations {
		// The mark lives in the app's rules; setting it is an update of
		// the bot just made. Should that fail the bot is removed again, so
		// a failed request leaves nothing behind.
		if _, err := s.store.UpdateBot(ctx, b.AppID, b.ID, func(_ *chat.Bot, r *store.AppRules) error {
			r.Rules.BotRouting, r.Rules.HandleAllBotID = true, b.ID
			return nil
		}); err != nil {
			if derr := s.store.DeleteBot(context.WithoutCancel(ctx), b.AppID, b.ID); derr != nil {
				s.log.ErrorContext(ctx, "removing a half-created bot failed", "app", b.AppID, "bot", b.ID, "err", derr)
			}
			return nil, err
		}
		handleAll = true
	}
	s.log.InfoContext(ctx, "bot created", "app", b.AppID, "bot", b.ID, "type", string(b.Type))
	return &BotView{Bot: *b, HandleAll: handleAll, Webhook: ptr(ws.Redacted())}, nil
}

func ptr[T any](v T) *T { return &v }

// view redacts b for an admin, given the app's handle-all bot.
func (s *Service) view(b *chat.Bot, handleAllBotID string) (*BotView, error) {
	v := &BotView{Bot: *b, HandleAll: handleAllBotID != "" && handleAllBotID == b.ID}
	v.Bot.Settings = nil
	if b.Type == chat.BotWebhook {
		// Redacting needs only to know whether a secret is set, so reads
		// never decrypt: the plaintext exists only where it is sent.
		var st sealedWebhook
		if len(b.Settings) > 0 {
			if err := json.Unmarshal(b.Settings, &st); err != nil {
				return nil, &chat.Error{Code: chat.CodeInternal, Message: "the bot's stored settings are unreadable", Cause: err}
			}
		}
		ws := webhookbot.Settings{URL: st.URL, HeaderName: st.HeaderName, TimeoutSeconds: st.TimeoutSeconds}
		if len(st.SealedHeaderValue) > 0 {
			ws.HeaderValue = webhookbot.RedactedValue
		}
		v.Webhook = &ws
	}
	return v, nil
}

// GetBot returns a bot of the actor's app, redacted.
func (s *Service) GetBot(ctx context.Context, actor Actor, id string) (*BotView, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("bot")
	}
	b, err := s.store.GetBot(ctx, actor.AppID, id)
	if err != nil {
		return nil, err
	}
	r, err := s.store.GetAppRules(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	return s.view(b, handleAllOf(r))
}

// handleAllOf is the bot that gets new conversations, if bot routing is on.
func handleAllOf(r *store.AppRules) string {
	if !r.Rules.BotRouting {
		return ""
	}
	return r.Rules.HandleAllBotID
}

// ListBots returns the actor's app's bots, redacted. Agents may list them,
// because the inbox shows which bot holds a conversation.
func (s *Service) ListBots(ctx context.Context, actor Actor) ([]BotView, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	bots, err := s.store.ListBots(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	r, err := s.store.GetAppRules(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	out := make([]BotView, 0, len(bots))
	for i := range bots {
		v, err := s.view(&bots[i], handleAllOf(r))
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// UpdateBot changes a bot of the actor's app. Setting
// handleAllNewConversations on it takes the mark from whichever bot held
// it, in the same write; clearing it on the bot that holds it turns bot
// routing off.
func (s *Service) UpdateBot(ctx context.Context, actor Actor, id string, in BotPatch) (*BotView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("bot")
	}
	if err := validateBotFields(in.Name, in.AvatarURL); err != nil {
		return nil, err
	}
	var newWebhook *webhookbot.Settings
	if len(in.Webhook) > 0 && string(in.Webhook) != "null" {
		ws, err := parseWebhook(in.Webhook)
		if err != nil {
			return nil, err
		}
		newWebhook = &ws
	}
	var handleAll string
	var redacted *webhookbot.Settings
	b, err := s.store.UpdateBot(ctx, actor.AppID, id, func(b *chat.Bot, r *store.AppRules) error {
		if newWebhook != nil {
			if b.Type != chat.BotWebhook {
				return chat.FieldError("webhook", "webhook settings apply only to webhook bots")
			}
			ws := *newWebhook
			if ws.HeaderValue == webhookbot.RedactedValue {
				// Decrypt only to keep the old secret: an admin who
				// retypes it can repair a bot whose secret no longer
				// opens (after a master key change, say).
				prev, err := s.openWebhook(b)
				if err != nil {
					return err
				}
				ws = ws.KeepSecret(prev)
			}
			var err error
			if ws.HeaderValue == webhookbot.RedactedValue {
				// The placeholder came back under another header name:
				// KeepSecret refuses to move a secret, so say so.
				return chat.FieldError("webhook.headerValue", "webhook.headerValue must be retyped when webhook.headerName changes")
			}
			if b.Settings, err = s.sealWebhook(b.AppID, b.ID, ws); err != nil {
				return err
			}
			redacted = ptr(ws.Redacted())
		}
		if in.Name != nil {
			b.Name = *in.Name
		}
		if in.AvatarURL != nil {
			b.AvatarURL = *in.AvatarURL
		}
		if in.Enabled != nil {
			b.Enabled = *in.Enabled
		}
		if in.AutoHandoff != nil {
			b.AutoHandoff = *in.AutoHandoff
		}
		if in.HandleAllNewConversations != nil {
			switch {
			case *in.HandleAllNewConversations:
				r.Rules.BotRouting, r.Rules.HandleAllBotID = true, b.ID
			case r.Rules.HandleAllBotID == b.ID:
				r.Rules.BotRouting, r.Rules.HandleAllBotID = false, ""
			}
		}
		handleAll = handleAllOf(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "bot updated", "app", b.AppID, "bot", b.ID, "settings_changed", newWebhook != nil)
	if redacted != nil {
		return &BotView{Bot: withoutSettings(*b), HandleAll: handleAll == b.ID, Webhook: redacted}, nil
	}
	return s.view(b, handleAll)
}

func withoutSettings(b chat.Bot) chat.Bot { b.Settings = nil; return b }

// DeleteBot removes a bot of the actor's app. It is refused (CodeConflict)
// while the bot holds conversations that are not closed: deleting it would
// strand those contacts with an assignee that no longer exists. Disabling
// the bot is the way to stop it without that.
func (s *Service) DeleteBot(ctx context.Context, actor Actor, id string) error {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return chat.NotFound("bot")
	}
	if err := s.store.DeleteBot(ctx, actor.AppID, id); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "bot deleted", "app", actor.AppID, "bot", id)
	return nil
}

// BotSettings returns a bot with its Settings decrypted into the JSON its
// connector parses (webhookbot.ParseSettings for a webhook bot). It is for
// the bot-turn pipeline only: the result holds the secret, so it must
// never reach a client or a log.
func (s *Service) BotSettings(ctx context.Context, appID, botID string) (*chat.Bot, error) {
	b, err := s.store.GetBot(ctx, appID, botID)
	if err != nil {
		return nil, err
	}
	switch b.Type {
	case chat.BotWebhook:
		ws, err := s.openWebhook(b)
		if err != nil {
			return nil, err
		}
		if b.Settings, err = json.Marshal(ws); err != nil {
			return nil, err
		}
	default:
		// Types without sealed fields are stored as their connector reads them.
	}
	return b, nil
}
