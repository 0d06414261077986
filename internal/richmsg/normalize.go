package richmsg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Unshowable is the text of a degraded rich message when neither the bot's
// text nor its payload yields anything readable. The contact must never
// see silence (SPEC §4.3).
const Unshowable = "(This message could not be displayed.)"

// Normalize is what every bot reply goes through before it is stored. It
// never fails: a valid rich message passes canonicalised; an invalid one
// becomes a plain text message (the bot's text, or a readable list built
// from the payload's titles) with the template keys removed; an invalid
// control key is dropped. Each change comes with a warning for the bot's
// owner, which never reaches the contact.
func Normalize(text string, meta chat.Metadata) (bot.Reply, []string) {
	var warns []string
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
		warns = append(warns, "text: invalid UTF-8 was replaced")
	}
	if len(text) > chat.MaxTextLen {
		text = cutBytes(text, chat.MaxTextLen)
		warns = append(warns, fmt.Sprintf("text: cut to %d bytes", chat.MaxTextLen))
	}
	m := chat.Metadata{}
	for k, v := range meta {
		if k == "" || len(k) > chat.MaxMetadataKeyLen || !utf8.ValidString(k) || strings.ContainsRune(k, 0) {
			warns = append(warns, fmt.Sprintf("metadata: a key that is not 1 to %d bytes of text was dropped", chat.MaxMetadataKeyLen))
			continue
		}
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
			warns = append(warns, fmt.Sprintf("metadata.%s: invalid UTF-8 was replaced", k))
		}
		m[k] = v
	}
	for _, k := range []string{chat.MetaAssignTo, chat.MetaAssignTeam, MetaActionRequest, MetaEnableAttachment} {
		if err := validateControlKey(m, k); err != nil {
			delete(m, k)
			warns = append(warns, errMessage(err)+"; the key was ignored")
		}
	}

	_, hasTemplate := m[chat.MetaTemplateID]
	if hasTemplate {
		clean, w, err := Validate(m)
		warns = append(warns, w...)
		if err == nil {
			return bot.Reply{Text: text, Metadata: clean}, warns
		}
		id := truncateRunes(m[chat.MetaTemplateID], 20)
		raw := m[chat.MetaPayload]
		for _, k := range templateKeys {
			delete(m, k)
		}
		if strings.TrimSpace(text) == "" {
			text = fallbackText(raw)
		}
		warns = append(warns, fmt.Sprintf("rich message (templateId %s) was sent as text: %s", id, errMessage(err)))
	} else if p, ok := m[chat.MetaPayload]; ok && looksRich(p) {
		delete(m, chat.MetaPayload)
		warns = append(warns, "metadata.payload without a templateId was dropped")
	}
	if err := m.Validate("metadata"); err != nil {
		// Too many keys or bytes: keep only what Switchboard acts on.
		kept := chat.Metadata{}
		for _, k := range []string{chat.MetaAssignTo, chat.MetaAssignTeam, MetaActionRequest, MetaEnableAttachment} {
			if v, ok := m[k]; ok {
				kept[k] = v
			}
		}
		m = kept
		warns = append(warns, "metadata: "+errMessage(err)+"; only the control keys were kept")
	}
	if len(m) == 0 {
		m = nil
	}
	return bot.Reply{Text: text, Metadata: m}, warns
}

// fallbackText builds a readable stand-in for a payload that cannot be
// rendered: its titles, names and captions as a list, in payload order. A
// payload that is not JSON at all is shown as it is (SPEC §4.3), bounded.
// URLs are left out: text is not a link, and an unchecked URL in front of
// the contact helps nobody.
func fallbackText(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Unshowable
	}
	if !json.Valid([]byte(raw)) {
		return truncateRunes(raw, MaxTextLen)
	}
	var lines []string
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	var lastKey string
	expectValue := false
	var stack []byte // '{' or '['
	for len(lines) < maxFallbackItems {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				stack = append(stack, byte(v))
			default:
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			}
			expectValue = false
			continue
		case string:
			inObject := len(stack) > 0 && stack[len(stack)-1] == '{'
			if inObject && !expectValue {
				lastKey, expectValue = v, true
				continue
			}
			if inObject && readableKey(lastKey) {
				if s := oneLine(v); s != "" && (len(lines) == 0 || lines[len(lines)-1] != "• "+s) {
					lines = append(lines, "• "+s)
				}
			} else if len(stack) == 0 {
				// A double-encoded payload: look inside once.
				if looksRich(v) && json.Valid([]byte(v)) {
					return fallbackText(v)
				}
			}
		}
		expectValue = false
	}
	if len(lines) == 0 {
		return Unshowable
	}
	return truncateRunes(strings.Join(lines, "\n"), MaxTextLen)
}

func readableKey(k string) bool {
	switch k {
	case "title", "name", "headerText", "caption", "label", "description", "subtitle":
		return true
	}
	return false
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for _, r := range s {
		if r >= ' ' && r != 0x7f {
			b.WriteRune(r)
		}
	}
	return truncateRunes(b.String(), MaxLabelLen)
}

// cutBytes cuts s to at most n bytes without splitting a character.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
