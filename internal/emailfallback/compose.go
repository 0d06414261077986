package emailfallback

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/email"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// maxQuoteRunes bounds one quoted message in an email.
const maxQuoteRunes = 2000

// contactEmail tells the contact what the agents wrote while they were away.
func (s *Sweeper) contactEmail(ctx context.Context, c *store.ContactEmailClaim) (email.Message, error) {
	app, err := s.o.Store.GetApp(ctx, c.AppID)
	if err != nil {
		return email.Message{}, err
	}
	names := map[string]string{}
	var first string
	var b strings.Builder
	greeting := "Hello"
	if c.Contact.Name != "" {
		greeting += " " + c.Contact.Name
	}
	fmt.Fprintf(&b, "%s,\n\nYou have a reply from %s that you have not read yet:\n", oneLine(greeting), oneLine(app.Name))
	for _, m := range c.Messages {
		name, ok := names[m.Sender.ID]
		if !ok {
			name = "An agent"
			if a, err := s.o.Store.GetAgent(ctx, c.AppID, m.Sender.ID); err == nil && a.Name != "" {
				name = a.Name
			}
			names[m.Sender.ID] = name
		}
		if first == "" {
			first = name
		}
		fmt.Fprintf(&b, "\n%s (%s):\n", oneLine(name), m.CreatedAt.UTC().Format("2 Jan 2006 15:04 MST"))
		for _, line := range strings.Split(MessageText(m), "\n") {
			b.WriteString("> " + line + "\n")
		}
	}
	b.WriteString("\nOpen the chat on our website to answer.\n")
	return email.Message{
		ToName:  c.Contact.Name,
		To:      c.Contact.Email,
		Subject: fmt.Sprintf("%s from %s replied to you", first, app.Name),
		Body:    b.String(),
	}, nil
}

// digestEmail lists the conversations waiting for an offline agent.
func (s *Sweeper) digestEmail(app chat.App, agent *chat.Agent, c *store.AgentDigestClaim) email.Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\nWhile you were offline, contacts wrote in %d of your conversations in %s:\n\n",
		oneLine(agent.Name), len(c.Items), oneLine(app.Name))
	for _, it := range c.Items {
		who := it.ContactName
		if who == "" {
			who = "A visitor"
		}
		plural := "s"
		if it.Waiting == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "- %s: %d message%s waiting since %s\n  %s\n",
			oneLine(who), it.Waiting, plural, it.Since.UTC().Format("2 Jan 2006 15:04 MST"), s.conversationLink(it.ConversationID))
	}
	return email.Message{
		ToName:  agent.Name,
		To:      agent.Email,
		Subject: fmt.Sprintf("%d conversation(s) waiting for you in %s", len(c.Items), app.Name),
		Body:    b.String(),
	}
}

// conversationLink opens the conversation in the dashboard, or names it
// when the dashboard's address is unknown.
func (s *Sweeper) conversationLink(id string) string {
	if s.o.DashboardURL == "" {
		return "conversation " + id
	}
	return s.o.DashboardURL + "#/inbox/mine/" + id
}

var (
	// Script and style bodies are code, not text for a reader.
	htmlDropped = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)\s*>`)
	htmlBreak   = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>`)
	htmlTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	blankLines  = regexp.MustCompile(`\n{3,}`)
)

// MessageText is m as plain text for an email: HTML turned into its text,
// control characters dropped, attachments and a location named, cut to a
// bounded length.
func MessageText(m chat.Message) string {
	text := m.Text
	if m.ContentType == chat.ContentHTML || htmlTag.MatchString(text) {
		text = htmlDropped.ReplaceAllString(text, "")
		text = htmlBreak.ReplaceAllString(text, "\n")
		text = html.UnescapeString(htmlTag.ReplaceAllString(text, ""))
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, text)
	text = strings.TrimSpace(blankLines.ReplaceAllString(text, "\n\n"))
	for _, a := range m.Attachments {
		text += "\n[attachment: " + oneLine(a.Name) + "]"
	}
	if m.Location != nil {
		text += "\n[a shared location]"
	}
	if r := []rune(text); len(r) > maxQuoteRunes {
		text = string(r[:maxQuoteRunes-1]) + "…"
	}
	return strings.TrimSpace(text)
}

// oneLine keeps a name on its line in the body.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
