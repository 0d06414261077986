package webhookbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// MaxReplies bounds the messages one turn may post; a runaway bot should not
// flood a conversation.
const MaxReplies = 50

// reply is one element of the bot's answer. Other members (Kommunicate's
// samples carry "platform") are ignored.
type reply struct {
	Message  *json.RawMessage `json:"message"`
	Metadata json.RawMessage  `json:"metadata"`
}

// parseReplies reads the bot's answer. The contract is a JSON array of
// {message, metadata}; an empty body or null means no replies, and an empty
// array is a bot that chose to stay silent. A single object is accepted as
// a one-element array, with a warning: it is a common slip in hand-written
// bots, and dropping the answer would leave the contact with nothing.
// Failures are Misconfigured *bot.Error values: the bot's code must change.
func parseReplies(body []byte) ([]bot.Reply, []string, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return nil, nil, nil
	}
	var warnings []string
	var elems []json.RawMessage
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &elems); err != nil {
			return nil, nil, badAnswer("is not valid JSON", err)
		}
	case '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, nil, badAnswer("is not valid JSON", err)
		}
		_, hasMsg := probe["message"]
		_, hasMeta := probe["metadata"]
		if !hasMsg && !hasMeta {
			return nil, nil, badAnswer(`is a JSON object without "message" or "metadata"; it must be an array of {"message", "metadata"}`, nil)
		}
		elems = []json.RawMessage{body}
		warnings = append(warnings, "the bot answered a single object instead of an array of messages; it was accepted")
	default:
		if !json.Valid(body) {
			return nil, nil, badAnswer("is not JSON", nil)
		}
		return nil, nil, badAnswer(`must be a JSON array of {"message", "metadata"}`, nil)
	}

	if len(elems) > MaxReplies {
		warnings = append(warnings, fmt.Sprintf("the bot sent %d messages; only the first %d were posted", len(elems), MaxReplies))
		elems = elems[:MaxReplies]
	}
	replies := make([]bot.Reply, 0, len(elems))
	for i, raw := range elems {
		n := i + 1
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var e reply
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, nil, badAnswer(fmt.Sprintf("has element %d that is not an object", n), nil)
		}
		var r bot.Reply
		if e.Message != nil && !bytes.Equal(*e.Message, []byte("null")) {
			if err := json.Unmarshal(*e.Message, &r.Text); err != nil {
				return nil, nil, badAnswer(fmt.Sprintf(`has a "message" in element %d that is not a string`, n), nil)
			}
		}
		if len(e.Metadata) > 0 {
			if err := json.Unmarshal(e.Metadata, &r.Metadata); err != nil {
				return nil, nil, badAnswer(fmt.Sprintf(`has "metadata" in element %d that is not a JSON object`, n), nil)
			}
			if err := r.Metadata.Validate("metadata"); err != nil {
				// The text is still worth showing; the owner learns why
				// the rich part is missing.
				warnings = append(warnings, fmt.Sprintf("message %d: its metadata was dropped: %s", n, chatMessage(err)))
				r.Metadata = nil
			}
		}
		if len(r.Text) > chat.MaxTextLen {
			r.Text = truncate(r.Text, chat.MaxTextLen)
			warnings = append(warnings, fmt.Sprintf("message %d was longer than %d bytes and was cut", n, chat.MaxTextLen))
		}
		if r.Text == "" && len(r.Metadata) == 0 {
			warnings = append(warnings, fmt.Sprintf("message %d was empty and was skipped", n))
			continue
		}
		replies = append(replies, r)
	}
	return replies, warnings, nil
}

func badAnswer(what string, cause error) *bot.Error {
	return &bot.Error{Kind: bot.Misconfigured, Message: "the bot's answer " + what, Cause: cause}
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
