package chat

import (
	"strings"
	"time"
	"unicode/utf8"
)

// CannedReply is an app's saved answer: an agent types its shortcut in the
// composer ("/hello") and the text is inserted, to be edited and sent.
type CannedReply struct {
	ID        string    `json:"id"`
	AppID     string    `json:"-"`
	Shortcut  string    `json:"shortcut"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Canned reply bounds. The text is a message's text, so it is bounded like
// one; an app with more replies than MaxCannedReplies has outgrown a list
// an agent scans by typing.
const (
	MaxShortcutLen   = 32 // bytes, the leading "/" included
	MaxCannedReplies = 500
)

// Validate checks a canned reply as an admin wrote it, trimming its
// fields. A shortcut is "/" then letters, digits, "-" or "_", so it can be
// typed at the start of a message and never collides with ordinary text
// mid-word.
func (c *CannedReply) Validate() error {
	c.Shortcut = strings.TrimSpace(c.Shortcut)
	if !strings.HasPrefix(c.Shortcut, "/") {
		c.Shortcut = "/" + c.Shortcut
	}
	if len(c.Shortcut) < 2 || len(c.Shortcut) > MaxShortcutLen {
		return FieldError("shortcut", "shortcut must be \"/\" and 1 to %d letters, digits, \"-\" or \"_\"", MaxShortcutLen-1)
	}
	for _, r := range c.Shortcut[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return FieldError("shortcut", "shortcut must be \"/\" and 1 to %d letters, digits, \"-\" or \"_\"", MaxShortcutLen-1)
		}
	}
	c.Shortcut = strings.ToLower(c.Shortcut)
	c.Text = strings.TrimSpace(c.Text)
	if c.Text == "" {
		return FieldError("text", "text is required")
	}
	if len(c.Text) > MaxTextLen || !utf8.ValidString(c.Text) {
		return FieldError("text", "text must be at most %d bytes of UTF-8", MaxTextLen)
	}
	return nil
}
