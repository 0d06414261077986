package lexbot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// The utterances of Kommunicate's Lex contract (SPEC §4.2), which existing
// bots already have intents for.
const (
	WelcomeText = "kmConversationStarted"
	MediaText   = "kommunicateMediaEvent"
)

// AttachmentsAttribute is the request attribute holding a media event's
// files and location, as a JSON array.
const AttachmentsAttribute = "attachments"

// MaxTextRunes is Lex's limit on RecognizeText's text.
const MaxTextRunes = 1024

// metaChatContext is the message metadata key under which Kommunicate's
// SDKs send the chat context along with a message.
const metaChatContext = "KM_CHAT_CONTEXT"

var sessionIDPattern = regexp.MustCompile(`^[0-9a-zA-Z._:-]{2,100}$`)

// SessionID is the Lex session id of a conversation: the conversation id
// itself when Lex accepts it (so that Lex's conversation logs name the
// conversation), else a digest of it, which is as stable and as distinct.
func SessionID(conversationID string) string {
	if sessionIDPattern.MatchString(conversationID) {
		return conversationID
	}
	sum := sha256.Sum256([]byte(conversationID))
	return "sb-" + hex.EncodeToString(sum[:20])
}

// input is what one turn sends to Lex.
type input struct {
	text     string
	reqAttrs map[string]string
	warnings []string
}

// buildInput turns a turn into Lex's text and request attributes. An empty
// text means there is nothing Lex could be asked.
func buildInput(t bot.Turn) input {
	var in input
	m := t.Message
	switch {
	case t.Event == bot.EventWelcome:
		in.text = WelcomeText
	case t.Event == bot.EventMedia || (m != nil && t.Event == "" && (len(m.Attachments) > 0 || m.Location != nil)):
		in.text = MediaText
		if m != nil {
			media, w := bot.Attachments(m, t.FileURLs)
			in.warnings = append(in.warnings, w...)
			if len(media) > 0 {
				raw, _ := json.Marshal(media) // maps of strings and finite numbers
				in.reqAttrs = map[string]string{AttachmentsAttribute: string(raw)}
			}
		}
	case t.Event != "":
		// A custom welcome event or the event of a bot-to-bot handoff:
		// Lex has no events, so the bot matches the name as an utterance.
		in.text = t.Event
	case m != nil:
		in.text = m.Text
	}
	in.text = strings.TrimSpace(in.text)
	if cut, ok := truncateWords(in.text, MaxTextRunes); ok {
		in.warnings = append(in.warnings, fmt.Sprintf(
			"the message has %d characters; Lex accepts %d, so it received the first %d, cut at a word boundary",
			utf8.RuneCountInString(in.text), MaxTextRunes, utf8.RuneCountInString(cut)))
		in.text = cut
	}
	return in
}

// truncateWords cuts s to at most n runes, at the last space before the
// limit when there is one, and reports whether it cut. A text without a
// space in its first n runes (a long URL) is cut at exactly n runes.
func truncateWords(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	end := 0 // byte offset just past the n-th rune
	for i := range s {
		if n == 0 {
			end = i
			break
		}
		n--
	}
	next, _ := utf8.DecodeRuneInString(s[end:])
	if unicode.IsSpace(next) {
		return strings.TrimRightFunc(s[:end], unicode.IsSpace), true
	}
	head := s[:end]
	if i := strings.LastIndexFunc(head, unicode.IsSpace); i > 0 {
		if cut := strings.TrimRightFunc(head[:i], unicode.IsSpace); cut != "" {
			return cut, true
		}
	}
	return head, true
}

// state is what the connector keeps per conversation between turns
// (bot.Result.State).
type state struct {
	// SessionAttributes are the attributes Lex returned last.
	SessionAttributes map[string]string `json:"sessionAttributes,omitempty"`
	// Fallbacks counts the FallbackIntent answers in a row.
	Fallbacks int `json:"fallbacks,omitempty"`
	// Context holds a digest of each chat-context value as it was last
	// sent, to tell a value the site changed from one the bot changed.
	Context map[string]string `json:"context,omitempty"`
}

// decodeState reads the previous turn's state. A state that cannot be read
// (written by another version, or damaged) starts the conversation's
// session afresh rather than failing every turn from now on.
func decodeState(raw json.RawMessage) (state, []string) {
	var st state
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return st, nil
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.Fallbacks < 0 {
		return state{}, []string{"the conversation's saved Lex session attributes could not be read and were reset"}
	}
	return st, nil
}

// contextAttributes flattens a chat context into session attributes:
// strings as they are, other values as their JSON text (SPEC §4.2). A
// message's own KM_CHAT_CONTEXT is the newer copy, so its keys win.
func contextAttributes(t bot.Turn) (map[string]string, []string) {
	out := map[string]string{}
	var warnings []string
	if t.Contact != nil && len(t.Contact.ChatContext) > 0 {
		if err := flattenInto(out, t.Contact.ChatContext); err != nil {
			warnings = append(warnings, "the contact's chat context is not a JSON object and was not sent to the bot")
		}
	}
	if t.Message != nil {
		if v, ok := t.Message.Metadata[metaChatContext]; ok {
			if err := flattenInto(out, json.RawMessage(v)); err != nil {
				warnings = append(warnings, "the message's "+metaChatContext+" is not a JSON object and was not sent to the bot")
			}
		}
	}
	return out, warnings
}

func flattenInto(dst map[string]string, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	// Chat context flattens exactly as message metadata does: strings as
	// they are, anything else as its compact JSON text, nulls dropped.
	var m chat.Metadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	maps.Copy(dst, m)
	return nil
}

// mergeAttributes builds the session attributes to send: the ones Lex
// returned last turn, with the chat context merged in. For a key in both,
// the context's value wins when the site changed it since the last turn
// (it is the newer fact about the contact); otherwise Lex's wins, so that
// a bot may overwrite a context value it was given and keep its own. The
// returned digests go into the next state.
func mergeAttributes(st state, ctx map[string]string) (attrs, digests map[string]string) {
	attrs = make(map[string]string, len(st.SessionAttributes)+len(ctx))
	for k, v := range st.SessionAttributes {
		attrs[k] = v
	}
	if len(ctx) > 0 {
		digests = make(map[string]string, len(ctx))
	}
	for k, v := range ctx {
		d := digest(v)
		digests[k] = d
		if _, kept := attrs[k]; !kept || st.Context[k] != d {
			attrs[k] = v
		}
	}
	return attrs, digests
}

func digest(v string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(v))
	return strconv.FormatUint(h.Sum64(), 36)
}
