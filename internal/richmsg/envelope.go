package richmsg

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Envelope is Kommunicate's message envelope, as bots send it in a Lex or
// Dialogflow custom payload and in a webhook bot's response array:
//
//	{"platform":"kommunicate","message":"…","metadata":{"templateId":"6","payload":[…]}}
//
// Metadata values that are objects or arrays become their compact JSON text
// (chat.Metadata's rule), so "payload" may be sent as an array or as a
// string holding one.
type Envelope struct {
	Platform string        `json:"platform,omitempty"`
	Message  string        `json:"message"`
	Metadata chat.Metadata `json:"metadata,omitempty"`
	// IgnoreTextResponse is Dialogflow's flag to hide the intent's text
	// response in favour of this payload; the Dialogflow side acts on it.
	IgnoreTextResponse bool `json:"ignoreTextResponse,omitempty"`
}

// MaxEnvelopeBytes bounds one envelope.
const MaxEnvelopeBytes = 256 << 10

// ParseEnvelope decodes one envelope. The platform may be absent (webhook
// bots usually omit it); a platform other than "kommunicate" is refused, as
// that payload is meant for another channel. The metadata is not checked
// here: Normalize (or Validate) does that.
func ParseEnvelope(raw []byte) (Envelope, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > MaxEnvelopeBytes {
		return Envelope{}, chat.Errorf(chat.CodeTooLarge, "custom payload is larger than %d bytes", MaxEnvelopeBytes)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Envelope{}, chat.FieldError("payload", "custom payload must be a JSON object")
	}
	var wire struct {
		Platform           string          `json:"platform"`
		Message            json.RawMessage `json:"message"`
		Metadata           chat.Metadata   `json:"metadata"`
		IgnoreTextResponse bool            `json:"ignoreTextResponse"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		if ce, ok := err.(*chat.Error); ok {
			return Envelope{}, ce
		}
		return Envelope{}, chat.FieldError("payload", "custom payload is not a valid envelope: %s", jsonErrText(err))
	}
	if wire.Platform != "" && wire.Platform != "kommunicate" {
		return Envelope{}, chat.FieldError("platform", "platform %q is not kommunicate", truncateRunes(wire.Platform, 30))
	}
	e := Envelope{Platform: wire.Platform, Metadata: wire.Metadata, IgnoreTextResponse: wire.IgnoreTextResponse}
	if m := bytes.TrimSpace(wire.Message); len(m) > 0 && !bytes.Equal(m, []byte("null")) {
		if err := json.Unmarshal(m, &e.Message); err != nil {
			return Envelope{}, chat.FieldError("message", "message must be a string")
		}
	}
	return e, nil
}

// Reply returns the envelope as a bot reply, normalised (see Normalize).
func (e Envelope) Reply() (bot.Reply, []string) { return Normalize(e.Message, e.Metadata) }

// FromCustomPayload turns a Lex CustomPayload message into a reply. Content
// that is not a valid envelope is shown as text and a warning is recorded
// (SPEC §4.3): the bot's author sees the mistake, the contact sees the text.
func FromCustomPayload(content string) (bot.Reply, []string) {
	e, err := ParseEnvelope([]byte(content))
	if err != nil {
		r, w := Normalize(content, nil)
		if r.Text == "" {
			r.Text = Unshowable
		}
		return r, append(w, "custom payload was shown as text: "+errMessage(err))
	}
	return e.Reply()
}

func jsonErrText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("%s has the wrong type", te.Field)
	}
	return "invalid JSON"
}
