package lexbot

import (
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2/types"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

// fallbackIntent is the name Lex gives its built-in AMAZON.FallbackIntent.
const fallbackIntent = "FallbackIntent"

// Reasons a Lex bot gives up (SPEC §4.3), as metric labels.
const (
	reasonFailedIntent = "failed_intent"
	reasonFallbacks    = "fallbacks"
	reasonAttribute    = "handoff_attribute"
)

// replies turns Lex's messages into replies, one each, in Lex's order.
// Problems with a message become warnings, and a message that cannot be
// shown becomes richmsg.Unshowable: the contact sees that something was
// said rather than nothing.
func replies(msgs []types.Message) ([]bot.Reply, []string) {
	out := make([]bot.Reply, 0, len(msgs))
	var warnings []string
	for i, m := range msgs {
		n := i + 1
		warn := func(ws []string) {
			for _, w := range ws {
				warnings = append(warnings, fmt.Sprintf("Lex message %d (%s): %s", n, m.ContentType, w))
			}
		}
		switch m.ContentType {
		case types.MessageContentTypePlainText:
			out = append(out, bot.Reply{Text: aws.ToString(m.Content)})
		case types.MessageContentTypeSsml:
			out = append(out, bot.Reply{Text: stripSSML(aws.ToString(m.Content))})
		case types.MessageContentTypeImageResponseCard:
			c := m.ImageResponseCard
			if c == nil {
				warn([]string{"the message has no imageResponseCard"})
				out = append(out, bot.Reply{Text: richmsg.Unshowable})
				continue
			}
			buttons := make([]richmsg.LexButton, 0, len(c.Buttons))
			for _, b := range c.Buttons {
				buttons = append(buttons, richmsg.LexButton{Text: aws.ToString(b.Text), Value: aws.ToString(b.Value)})
			}
			meta, w := richmsg.FromLexCard(aws.ToString(c.Title), aws.ToString(c.Subtitle), aws.ToString(c.ImageUrl), buttons)
			warn(w)
			out = append(out, bot.Reply{Metadata: meta})
		case types.MessageContentTypeCustomPayload:
			r, w := richmsg.FromCustomPayload(aws.ToString(m.Content))
			warn(w)
			out = append(out, r)
		default:
			// A content type newer than this connector: its text is
			// better than nothing, and a placeholder better than silence.
			warn([]string{"unknown content type; shown as text"})
			text := aws.ToString(m.Content)
			if strings.TrimSpace(text) == "" {
				text = richmsg.Unshowable
			}
			out = append(out, bot.Reply{Text: text})
		}
	}
	return out, warnings
}

var (
	// Tags that separate words when spoken; the rest (emphasis, prosody,
	// say-as, sub) sit inside a sentence.
	ssmlBreak = regexp.MustCompile(`(?i)</?(speak|p|s|break|audio|mark)\b[^>]*>`)
	ssmlTag   = regexp.MustCompile(`<[^>]*>`)
)

// stripSSML returns the words of an SSML document, entities decoded.
func stripSSML(s string) string {
	s = ssmlBreak.ReplaceAllString(s, " ")
	s = ssmlTag.ReplaceAllString(s, "")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// interpretedIntent is the intent Lex settled on: the session's, or, when
// Lex left that out, its best interpretation.
func interpretedIntent(out *lexruntimev2.RecognizeTextOutput) string {
	if ss := out.SessionState; ss != nil && ss.Intent != nil && aws.ToString(ss.Intent.Name) != "" {
		return aws.ToString(ss.Intent.Name)
	}
	for _, in := range out.Interpretations {
		if in.Intent != nil && aws.ToString(in.Intent.Name) != "" {
			return aws.ToString(in.Intent.Name)
		}
	}
	return ""
}

// giveUp applies SPEC §4.3 to an answer and returns the reason, if any.
// fallbacks is the count of FallbackIntent answers in a row, this one
// included; limit 0 turns that rule off.
func giveUp(out *lexruntimev2.RecognizeTextOutput, attrs map[string]string, attribute string, fallbacks, limit int) string {
	if ss := out.SessionState; ss != nil && ss.DialogAction != nil && ss.Intent != nil &&
		ss.DialogAction.Type == types.DialogActionTypeClose && ss.Intent.State == types.IntentStateFailed {
		return reasonFailedIntent
	}
	if limit > 0 && fallbacks > limit {
		return reasonFallbacks
	}
	if strings.EqualFold(strings.TrimSpace(attrs[attribute]), "true") {
		return reasonAttribute
	}
	return ""
}
