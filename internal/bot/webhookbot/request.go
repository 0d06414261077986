package webhookbot

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
)

// Keys inside the request's metadata, as Kommunicate names them, so that a
// bot written for Kommunicate reads them where it already does.
const (
	metaChatContext = "KM_CHAT_CONTEXT"    // the contact's chat context, an object
	ctxLanguage     = "kmUserLanguageCode" // the contact's language, inside KM_CHAT_CONTEXT
	ctxAttachments  = "attachments"        // media of a KOMMUNICATE_MEDIA_EVENT, inside KM_CHAT_CONTEXT
)

// sourceWeb is Kommunicate's (Applozic's) numeric message source for the
// web; the widget is Switchboard's only first-party client.
const sourceWeb = 1

// Request is the JSON body POSTed to the bot, field for field Kommunicate's
// custom-bot contract. It is exported so that tests and a bot author's
// tooling can decode exactly what Switchboard sends.
type Request struct {
	BotID          string         `json:"botId"`
	Key            string         `json:"key"`
	From           string         `json:"from"`
	Message        string         `json:"message"`
	GroupID        string         `json:"groupId"`
	Metadata       map[string]any `json:"metadata"`
	ContentType    int            `json:"contentType"`
	ApplicationKey string         `json:"applicationKey"`
	Source         int            `json:"source"`
	EventName      string         `json:"eventName"`
	CreatedAt      int64          `json:"createdAt"` // Unix milliseconds
}

// buildRequest turns a turn into the request body. Problems that should not
// stop the turn (a chat context that is not an object, an attachment without
// a signed URL) come back as warnings for the bot's owner.
func buildRequest(t bot.Turn, now time.Time) (Request, []string) {
	var warnings []string
	r := Request{
		BotID:          t.Bot.ID,
		GroupID:        t.ConversationID,
		ApplicationKey: t.AppID,
		Source:         sourceWeb,
		EventName:      t.Event,
		CreatedAt:      now.UnixMilli(),
		Metadata:       map[string]any{},
	}
	if t.AppID == "" {
		r.ApplicationKey = t.Bot.AppID
	}
	if c := t.Contact; c != nil {
		// Anonymous contacts have no site user id; their own id is stable
		// for the conversation, which is what a bot keys its session on.
		r.From = c.UserID
		if r.From == "" {
			r.From = c.ID
		}
	}

	ctx := map[string]any{}
	if t.Contact != nil && len(t.Contact.ChatContext) > 0 {
		if err := mergeObject(ctx, t.Contact.ChatContext); err != nil {
			warnings = append(warnings, "the contact's chat context is not a JSON object and was not sent to the bot")
		}
	}

	if m := t.Message; m != nil {
		r.Key = m.ID
		r.Message = m.Text
		r.ContentType = int(m.ContentType)
		if !m.CreatedAt.IsZero() {
			r.CreatedAt = m.CreatedAt.UnixMilli()
		}
		for k, v := range m.Metadata {
			if k == metaChatContext {
				// Kommunicate's SDKs also put the chat context on each
				// message, as a JSON string; it is the newer copy, so its
				// keys win over the contact's.
				_ = mergeObject(ctx, json.RawMessage(v))
				continue
			}
			r.Metadata[k] = v
		}
		if m.Location != nil && r.Message == "" {
			// Kommunicate's location messages carry the point as their text.
			r.Message = `{"lat":` + formatFloat(m.Location.Lat) + `,"lon":` + formatFloat(m.Location.Lon) + `}`
		}
		media, w := bot.Attachments(m, t.FileURLs)
		warnings = append(warnings, w...)
		if len(media) > 0 {
			ctx[ctxAttachments] = media
			if r.EventName == "" {
				// The pipeline names the event; a media message that
				// arrives without one still gets the contract's event.
				r.EventName = bot.EventMedia
			}
		}
	}
	if t.Language != "" {
		ctx[ctxLanguage] = t.Language
	}
	r.Metadata[metaChatContext] = ctx
	return r, warnings
}

// mergeObject copies the members of the JSON object raw into dst.
func mergeObject(dst map[string]any, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	for k, v := range obj {
		dst[k] = v
	}
	return nil
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
