package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// LexSetup checks Lex settings against Lex and lists an account's bots;
// *lexbot.Setup is the real one.
type LexSetup interface {
	Validate(ctx context.Context, s lexbot.Settings) (lexbot.Settings, error)
	Discover(ctx context.Context, in lexbot.DiscoverInput) ([]lexbot.DiscoveredBot, error)
}

// NewBot is the input of CreateBot. Each bot type has its own settings
// object, named after the type ("webhook", "lex"), so a type's form can
// grow without touching the others'.
type NewBot struct {
	Name                      string          `json:"name"`
	Type                      chat.BotType    `json:"type"`
	AvatarURL                 string          `json:"avatarUrl"`
	Enabled                   *bool           `json:"enabled"` // nil: enabled
	AutoHandoff               bool            `json:"autoHandoff"`
	HandleAllNewConversations bool            `json:"handleAllNewConversations"`
	Webhook                   json.RawMessage `json:"webhook"`
	Lex                       json.RawMessage `json:"lex"`
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
	Lex                       json.RawMessage `json:"lex"`
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
	// Lex is the redacted settings of a Lex bot, with the locales
	// validation read from its alias.
	Lex *lexbot.Settings
}

const maxAvatarURLLen = 2048

// secretField is a bot type's one secret inside its settings object. At
// rest the field is replaced by "sealed" + its name capitalised
// (sealedHeaderValue, sealedSecretAccessKey) holding the AES-GCM
// ciphertext, so that a database dump or backup does not hand out the
// credential; everything else is stored as the connector reads it.
type secretField struct {
	name     string
	redacted string // what admins see instead
}

var secretFields = map[chat.BotType]secretField{
	chat.BotWebhook: {"headerValue", webhookbot.RedactedValue},
	chat.BotLex:     {"secretAccessKey", lexbot.RedactedValue},
}

func (f secretField) sealed() string {
	r, n := utf8.DecodeRuneInString(f.name)
	return "sealed" + string(unicode.ToUpper(r)) + f.name[n:]
}

// botSecretAD binds a sealed secret to its bot, so a ciphertext copied into
// another bot's or app's row does not decrypt there.
func botSecretAD(appID, botID string) []byte {
	return []byte("bot-secret\x00" + appID + "\x00" + botID)
}

const errUnreadableSettings = "the bot's stored settings are unreadable"

// sealSettings turns a connector's settings value into the stored form.
func (s *Service) sealSettings(appID, botID string, typ chat.BotType, settings any) (json.RawMessage, error) {
	raw, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	field, ok := secretFields[typ]
	if !ok {
		return raw, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var secret string
	if v, ok := m[field.name]; ok {
		if err := json.Unmarshal(v, &secret); err != nil {
			return nil, err
		}
		delete(m, field.name)
	}
	if secret != "" {
		sealed, err := s.keys.Seal([]byte(secret), botSecretAD(appID, botID))
		if err != nil {
			return nil, err
		}
		if m[field.sealed()], err = json.Marshal(sealed); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}

// storedSettings splits a bot's stored settings into the fields and the
// sealed secret (nil when none is set). A failure is internal: it means
// the row was damaged, and the message must not say more than that.
func storedSettings(b *chat.Bot) (map[string]json.RawMessage, []byte, error) {
	m := map[string]json.RawMessage{}
	if len(b.Settings) == 0 {
		// A bot made in code without settings; its connector will report
		// it as misconfigured.
		return m, nil, nil
	}
	if err := json.Unmarshal(b.Settings, &m); err != nil {
		return nil, nil, &chat.Error{Code: chat.CodeInternal, Message: errUnreadableSettings, Cause: err}
	}
	field, ok := secretFields[b.Type]
	if !ok {
		return m, nil, nil
	}
	var sealed []byte
	if v, ok := m[field.sealed()]; ok {
		if err := json.Unmarshal(v, &sealed); err != nil {
			return nil, nil, &chat.Error{Code: chat.CodeInternal, Message: errUnreadableSettings, Cause: err}
		}
		delete(m, field.sealed())
	}
	return m, sealed, nil
}

// openSettings returns a bot's settings as its connector parses them, the
// secret decrypted.
func (s *Service) openSettings(b *chat.Bot) (json.RawMessage, error) {
	m, sealed, err := storedSettings(b)
	if err != nil || len(b.Settings) == 0 {
		return b.Settings, err
	}
	if len(sealed) > 0 {
		pt, err := s.keys.Open(sealed, botSecretAD(b.AppID, b.ID))
		if err != nil {
			return nil, &chat.Error{Code: chat.CodeInternal, Message: "the bot's secret cannot be decrypted (was the master key changed?)", Cause: err}
		}
		if m[secretFields[b.Type].name], err = json.Marshal(string(pt)); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}

// openInto decrypts a bot's settings into v, its connector's settings type.
func (s *Service) openInto(b *chat.Bot, v any) error {
	raw, err := s.openSettings(b)
	if err != nil || len(raw) == 0 {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &chat.Error{Code: chat.CodeInternal, Message: errUnreadableSettings, Cause: err}
	}
	return nil
}

// view redacts b for an admin, given the app's handle-all bot. Redacting
// needs only to know whether a secret is set, so reads never decrypt: the
// plaintext exists only where it is sent.
func (s *Service) view(b *chat.Bot, handleAllBotID string) (*BotView, error) {
	v := &BotView{Bot: withoutSettings(*b), HandleAll: handleAllBotID != "" && handleAllBotID == b.ID}
	m, sealed, err := storedSettings(b)
	if err != nil {
		return nil, err
	}
	if f, ok := secretFields[b.Type]; ok {
		// A secret stored unsealed (by code that wrote the row directly)
		// is hidden all the same.
		if _, plain := m[f.name]; plain || len(sealed) > 0 {
			if m[f.name], err = json.Marshal(f.redacted); err != nil {
				return nil, err
			}
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	switch b.Type {
	case chat.BotWebhook:
		v.Webhook = &webhookbot.Settings{}
		err = json.Unmarshal(raw, v.Webhook)
	case chat.BotLex:
		v.Lex = &lexbot.Settings{}
		err = json.Unmarshal(raw, v.Lex)
	}
	if err != nil {
		return nil, &chat.Error{Code: chat.CodeInternal, Message: errUnreadableSettings, Cause: err}
	}
	return v, nil
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

func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// settingsFor picks the settings object matching typ and refuses the
// other one, so that a form for one type posted to a bot of another is an
// error rather than silently ignored.
func settingsFor(typ chat.BotType, webhook, lex json.RawMessage) (json.RawMessage, error) {
	switch typ {
	case chat.BotWebhook:
		if present(lex) {
			return nil, chat.FieldError("lex", "lex settings apply only to Lex bots; this bot's type is webhook")
		}
		return webhook, nil
	case chat.BotLex:
		if present(webhook) {
			return nil, chat.FieldError("webhook", "webhook settings apply only to webhook bots; this bot's type is lex")
		}
		return lex, nil
	}
	return nil, chat.FieldError("type", `type must be "lex" or "webhook"`)
}

// preparedSettings is a settings object checked and ready to store.
type preparedSettings struct {
	value    any // the connector's settings, secret in clear
	redacted any // what the admin sees
}

// prepareSettings parses a posted settings object for a bot of type typ.
// prev is the bot being changed (nil on create): a redacted secret sent
// back keeps prev's secret. Lex settings are validated against Lex, which
// is why this runs before, not inside, the store's transaction.
func (s *Service) prepareSettings(ctx context.Context, typ chat.BotType, raw json.RawMessage, prev *chat.Bot) (preparedSettings, error) {
	switch typ {
	case chat.BotWebhook:
		ws, err := webhookbot.ParseSettings(raw)
		if err != nil {
			return preparedSettings{}, err
		}
		if ws.HeaderValue == webhookbot.RedactedValue && prev != nil {
			// Decrypt only to keep the old secret: an admin who retypes
			// it can repair a bot whose secret no longer opens (after a
			// master key change, say).
			var old webhookbot.Settings
			if err := s.openInto(prev, &old); err != nil {
				return preparedSettings{}, err
			}
			ws = ws.KeepSecret(old)
		}
		if ws.HeaderValue == webhookbot.RedactedValue {
			// No stored secret to keep (a new bot, or KeepSecret refused
			// to move it under another header name).
			return preparedSettings{}, chat.FieldError("webhook.headerValue", "webhook.headerValue must be the secret itself, not the redacted placeholder (retype it when webhook.headerName changes)")
		}
		return preparedSettings{value: ws, redacted: ptr(ws.Redacted())}, nil
	case chat.BotLex:
		ls, err := lexbot.ParseSettings(raw)
		if err != nil {
			return preparedSettings{}, err
		}
		if ls.SecretAccessKey == lexbot.RedactedValue && prev != nil {
			var old lexbot.Settings
			if err := s.openInto(prev, &old); err != nil {
				return preparedSettings{}, err
			}
			ls = ls.KeepSecret(old)
		}
		if ls.SecretAccessKey == lexbot.RedactedValue {
			return preparedSettings{}, chat.FieldError("lex.secretAccessKey", "lex.secretAccessKey must be the secret itself, not the redacted placeholder (retype it when lex.accessKeyId changes)")
		}
		if ls, err = s.lex.Validate(ctx, ls); err != nil {
			return preparedSettings{}, err
		}
		return preparedSettings{value: ls, redacted: ptr(ls.Redacted())}, nil
	}
	return preparedSettings{}, chat.FieldError("type", `type must be "lex" or "webhook"`)
}

func (p preparedSettings) into(v *BotView) {
	switch r := p.redacted.(type) {
	case *webhookbot.Settings:
		v.Webhook = r
	case *lexbot.Settings:
		v.Lex = r
	}
}

// CreateBot adds a bot to the actor's app. Admins only: a bot's settings
// carry a credential and decide who answers the app's contacts. A Lex
// bot's settings are checked with Lex first, and its alias's locales kept.
func (s *Service) CreateBot(ctx context.Context, actor Actor, in NewBot) (*BotView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	return s.createBot(ctx, actor.AppID, chat.NewID(), in)
}

// createBot adds a bot with the given id to an app.
func (s *Service) createBot(ctx context.Context, appID, id string, in NewBot) (*BotView, error) {
	if err := validateBotFields(&in.Name, &in.AvatarURL); err != nil {
		return nil, err
	}
	raw, err := settingsFor(in.Type, in.Webhook, in.Lex)
	if err != nil {
		return nil, err
	}
	p, err := s.prepareSettings(ctx, in.Type, raw, nil)
	if err != nil {
		return nil, err
	}
	b := &chat.Bot{ID: id, AppID: appID, Type: in.Type, Name: in.Name, AvatarURL: in.AvatarURL,
		Enabled: in.Enabled == nil || *in.Enabled, AutoHandoff: in.AutoHandoff, Status: chat.BotStatusOK}
	if b.Settings, err = s.sealSettings(b.AppID, b.ID, b.Type, p.value); err != nil {
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
	v := &BotView{Bot: withoutSettings(*b), HandleAll: handleAll}
	p.into(v)
	return v, nil
}

func ptr[T any](v T) *T { return &v }

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

// errBotChanged answers a save that raced with another: the settings were
// checked against what the bot held when the request began.
func errBotChanged() error {
	return chat.Errorf(chat.CodeConflict, "the bot's settings changed while this request was checking them; load the bot and try again")
}

// UpdateBot changes a bot of the actor's app. Setting
// handleAllNewConversations on it takes the mark from whichever bot held
// it, in the same write; clearing it on the bot that holds it turns bot
// routing off. New Lex settings are checked with Lex before anything is
// written; new settings of any type set the bot's status back to ok.
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
	var p *preparedSettings
	var readSettings json.RawMessage
	if present(in.Webhook) || present(in.Lex) {
		prev, err := s.store.GetBot(ctx, actor.AppID, id)
		if err != nil {
			return nil, err
		}
		raw, err := settingsFor(prev.Type, in.Webhook, in.Lex)
		if err != nil {
			return nil, err
		}
		if !present(raw) {
			return nil, chat.FieldError(string(prev.Type), "%s settings are required to change this bot's settings", prev.Type)
		}
		prepared, err := s.prepareSettings(ctx, prev.Type, raw, prev)
		if err != nil {
			return nil, err
		}
		p, readSettings = &prepared, prev.Settings
	}
	var handleAll string
	b, err := s.store.UpdateBot(ctx, actor.AppID, id, func(b *chat.Bot, r *store.AppRules) error {
		if p != nil {
			if !bytes.Equal(b.Settings, readSettings) {
				return errBotChanged()
			}
			var err error
			if b.Settings, err = s.sealSettings(b.AppID, b.ID, b.Type, p.value); err != nil {
				return err
			}
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
	if p != nil {
		// The status described the settings just replaced (and new Lex
		// settings were checked with Lex on the way in).
		s.setBotStatus(ctx, b, chat.BotStatusOK, "")
	}
	s.log.InfoContext(ctx, "bot updated", "app", b.AppID, "bot", b.ID, "settings_changed", p != nil)
	if p != nil {
		v := &BotView{Bot: withoutSettings(*b), HandleAll: handleAll == b.ID}
		p.into(v)
		return v, nil
	}
	return s.view(b, handleAll)
}

func withoutSettings(b chat.Bot) chat.Bot { b.Settings = nil; return b }

// setBotStatus records a bot's health and updates b to match. A failure is
// logged, not returned: the status is advice for admins, and the action
// that found it out (a save, a turn) has its own outcome to report.
func (s *Service) setBotStatus(ctx context.Context, b *chat.Bot, status chat.BotStatus, detail string) {
	detail = chat.TrimNote(detail)
	if b.Status == status && b.StatusDetail == detail {
		return
	}
	if err := s.store.SetBotStatus(context.WithoutCancel(ctx), b.AppID, b.ID, status, detail); err != nil {
		s.log.WarnContext(ctx, "recording the bot's status failed", "app", b.AppID, "bot", b.ID, "status", string(status), "err", err)
		return
	}
	if status != chat.BotStatusOK {
		s.log.WarnContext(ctx, "bot status changed", "app", b.AppID, "bot", b.ID, "status", string(status), "detail", detail)
	}
	b.Status, b.StatusDetail = status, detail
}

// noteBotFailure marks a bot whose turn failed for a reason an admin must
// fix: refused credentials, or settings that name what is not there.
// Failures that may heal by themselves (timeouts, throttling) leave the
// status alone.
func (s *Service) noteBotFailure(ctx context.Context, b *chat.Bot, kind bot.Kind, message string) {
	switch kind {
	case bot.Unauthorized:
		s.setBotStatus(ctx, b, chat.BotStatusCredentialsInvalid, message)
	case bot.Misconfigured:
		s.setBotStatus(ctx, b, chat.BotStatusMisconfigured, message)
	}
}

// statusForSetupError is the bot status a failed Lex validation means;
// ok is false for failures that say nothing about the bot (Lex busy).
func statusForSetupError(err error) (chat.BotStatus, bool) {
	switch c := chat.ErrorCode(err); {
	case c == chat.CodeLexCredentialsInvalid || c == chat.CodeLexPermissionDenied:
		return chat.BotStatusCredentialsInvalid, true
	case chat.IsLexSetupCode(c) || c == chat.CodeInvalid:
		return chat.BotStatusMisconfigured, true
	}
	return "", false
}

// ValidateBot checks a Lex bot's stored settings with Lex again, as the
// dashboard's "validate" button does: the locales are read afresh and the
// bot's status set from the outcome. A failure is returned as the same
// error saving would give, after being recorded as the bot's status.
func (s *Service) ValidateBot(ctx context.Context, actor Actor, id string) (*BotView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("bot")
	}
	b, err := s.store.GetBot(ctx, actor.AppID, id)
	if err != nil {
		return nil, err
	}
	if b.Type != chat.BotLex {
		return nil, chat.Errorf(chat.CodeInvalid, "only Lex bots are validated against their service; this bot's type is %s", b.Type)
	}
	var ls lexbot.Settings
	if err := s.openInto(b, &ls); err != nil {
		return nil, err
	}
	checked, err := s.lex.Validate(ctx, ls)
	if err != nil {
		if st, ok := statusForSetupError(err); ok {
			var ce *chat.Error
			errors.As(err, &ce)
			s.setBotStatus(ctx, b, st, ce.Message)
		}
		s.log.InfoContext(ctx, "bot validation failed", "app", b.AppID, "bot", b.ID, "code", string(chat.ErrorCode(err)))
		return nil, err
	}
	read := b.Settings
	b, err = s.store.UpdateBot(ctx, actor.AppID, id, func(cur *chat.Bot, _ *store.AppRules) error {
		if !bytes.Equal(cur.Settings, read) {
			return errBotChanged()
		}
		var err error
		cur.Settings, err = s.sealSettings(cur.AppID, cur.ID, cur.Type, checked)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.setBotStatus(ctx, b, chat.BotStatusOK, "")
	s.log.InfoContext(ctx, "bot validated", "app", b.AppID, "bot", b.ID, "locales", strings.Join(checked.Locales, ","))
	r, err := s.store.GetAppRules(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	return s.view(b, handleAllOf(r))
}

// DiscoverLex lists the Lex bots, aliases and enabled locales that the
// given keys can see, so an admin picks them instead of typing ids. The
// keys are used for this call only and never stored or logged.
func (s *Service) DiscoverLex(ctx context.Context, actor Actor, in lexbot.DiscoverInput) ([]lexbot.DiscoveredBot, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	bots, err := s.lex.Discover(ctx, in)
	if err != nil {
		s.log.InfoContext(ctx, "lex discovery failed", "app", actor.AppID, "region", in.Region, "code", string(chat.ErrorCode(err)))
		return nil, err
	}
	s.log.InfoContext(ctx, "lex discovery", "app", actor.AppID, "region", in.Region, "bots", len(bots))
	return bots, nil
}

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
// connector parses (webhookbot.ParseSettings, lexbot's settings). It is
// for the bot-turn pipeline only: the result holds the secret, so it must
// never reach a client or a log.
func (s *Service) BotSettings(ctx context.Context, appID, botID string) (*chat.Bot, error) {
	b, err := s.store.GetBot(ctx, appID, botID)
	if err != nil {
		return nil, err
	}
	if b.Settings, err = s.openSettings(b); err != nil {
		return nil, err
	}
	return b, nil
}
