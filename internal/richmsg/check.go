package richmsg

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Bounds. Kommunicate documents display limits (a card title of 16
// characters, a list title of 32, …) but renders longer text anyway, so
// refusing at those limits would break bots that work there today. These
// are hard limits against abuse and unreadable widgets instead.
const (
	MaxLabelLen      = 100  // runes: button names, quick-reply titles, item titles, form labels
	MaxTextLen       = 2000 // runes: descriptions, subtitles, captions, messages a click sends
	MaxQuickReplies  = 10   // template 6
	MaxButtons       = 10   // templates 3, 11, 13; footer buttons of 7 and 8; buttons on one card
	MaxListElements  = 20   // template 7
	MaxImages        = 10   // template 9
	MaxCards         = 10   // template 10
	MaxFormFields    = 25   // template 12, submit buttons included
	MaxFormOptions   = 25   // per radio/checkbox/dropdown field
	MaxVideos        = 5    // template 14
	MaxRegexLen      = 500  // a form field's validation regex
	MaxPayloadBytes  = 64 << 10
	MaxLexButtons    = 5 // Lex's ImageResponseCard allows at most 5 buttons
	maxMetaValueLen  = 4096
	maxFallbackItems = 20
)

// checker collects the first error and any warnings while a payload is
// checked. Only the first error is reported: a bot's owner fixes one thing
// at a time, and one precise message beats a wall of them.
type checker struct {
	err   error
	warns []string
}

func (c *checker) failf(field, format string, args ...any) {
	if c.err == nil {
		c.err = chat.FieldError(field, "%s: %s", field, fmt.Sprintf(format, args...))
	}
}

func (c *checker) warnf(format string, args ...any) {
	c.warns = append(c.warns, fmt.Sprintf(format, args...))
}

// text checks a plain-text field. It is kept exactly as given: trimming or
// escaping here would make the preview differ from what the bot sent, and
// escaping is the renderer's job anyway (it inserts text, never HTML).
func (c *checker) text(field, s string, max int, required bool) {
	if required && strings.TrimSpace(s) == "" {
		c.failf(field, "is required")
		return
	}
	if !utf8.ValidString(s) {
		c.failf(field, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.failf(field, "is %d characters long; the limit is %d", n, max)
		return
	}
	for _, r := range s {
		if (r < ' ' && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			c.failf(field, "contains a control character")
			return
		}
	}
}

// url checks and canonicalises a URL field in place.
func (c *checker) url(field string, s *string, required bool) {
	if *s == "" {
		if required {
			c.failf(field, "is required")
		}
		return
	}
	clean, upgraded, err := SafeURL(*s)
	if err != nil {
		c.failf(field, "%s", errMessage(err))
		return
	}
	if upgraded {
		c.warnf("%s: %q has no scheme; https:// was assumed", field, truncateRunes(*s, 80))
	}
	*s = clean
}

func (c *checker) count(field string, n, min, max int) {
	if n < min {
		if min == 1 {
			c.failf(field, "needs at least one entry")
		} else {
			c.failf(field, "needs at least %d entries", min)
		}
	} else if n > max {
		c.failf(field, "has %d entries; the limit is %d", n, max)
	}
}

// meta checks a nested string map (replyMetadata, formData).
func (c *checker) meta(field string, m chat.Metadata) {
	if len(m) == 0 {
		return
	}
	if err := m.Validate(field); err != nil {
		c.failf(field, "%s", errMessage(err))
		return
	}
	if len(m) > 32 {
		c.failf(field, "has %d keys; the limit is 32", len(m))
		return
	}
	for k, v := range m {
		if len(v) > maxMetaValueLen {
			c.failf(field+"."+k, "is longer than %d bytes", maxMetaValueLen)
			return
		}
	}
}

func (c *checker) language(field, tag string) {
	if tag == "" {
		return
	}
	if err := chat.ValidateLanguage(tag); err != nil {
		c.failf(field, "%q is not a BCP-47 language tag", truncateRunes(tag, 40))
	}
}

func errMessage(err error) string {
	if e, ok := err.(*chat.Error); ok {
		return e.Message
	}
	return err.Error()
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…" // n runes in all, so a cut value still fits its bound
}

func idx(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
