package webhookbot

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Limits on the settings. The timeout bounds come from the turn pipeline:
// a turn's deadline defaults to 10 s, and a bot that needs more than 30 s
// leaves the contact staring at a typing indicator for too long.
const (
	DefaultTimeoutSeconds = 10
	MinTimeoutSeconds     = 1
	MaxTimeoutSeconds     = 30

	maxURLLen         = 2048
	maxHeaderNameLen  = 64
	maxHeaderValueLen = 4096
)

// RedactedValue stands in for the header value in API responses. A client
// that sends it back unchanged keeps the stored secret (see KeepSecret).
const RedactedValue = "********"

// Settings is a webhook bot's connector configuration, stored as the bot's
// opaque Settings JSON and posted by admins as the "webhook" object of
// POST /api/v1/bots.
type Settings struct {
	// URL is where each turn is POSTed.
	URL string `json:"url"`
	// HeaderName and HeaderValue form the one optional request header the
	// bot's owner can check to know the request comes from Switchboard.
	// HeaderValue is a secret: it never appears in errors, logs or API
	// responses (use Redacted).
	HeaderName  string `json:"headerName,omitempty"`
	HeaderValue string `json:"headerValue,omitempty"`
	// TimeoutSeconds bounds one request; 0 means DefaultTimeoutSeconds.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// ParseSettings decodes and validates a bot's settings, filling in the
// default timeout. Unknown fields are refused so that a misspelt
// "headerNmae" is reported instead of silently sending no header.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return s, chat.FieldError("webhook.url", "webhook.url is required")
	}
	if err := bot.DecodeSettings(raw, "webhook", &s); err != nil {
		return Settings{}, err
	}
	if s.TimeoutSeconds == 0 {
		s.TimeoutSeconds = DefaultTimeoutSeconds
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate checks the settings. Messages never contain the header value.
func (s Settings) Validate() error {
	if err := validateURL(s.URL); err != nil {
		return err
	}
	if s.HeaderName == "" && s.HeaderValue != "" {
		return chat.FieldError("webhook.headerName", "webhook.headerName is required when webhook.headerValue is set")
	}
	if s.HeaderName != "" {
		if err := validateHeaderName(s.HeaderName); err != nil {
			return err
		}
		if s.HeaderValue == "" {
			return chat.FieldError("webhook.headerValue", "webhook.headerValue is required when webhook.headerName is set")
		}
		if err := validateHeaderValue(s.HeaderValue); err != nil {
			return err
		}
	}
	// 0 is accepted here as "the default", so that Validate agrees with
	// ParseSettings on settings built in code.
	if s.TimeoutSeconds != 0 && (s.TimeoutSeconds < MinTimeoutSeconds || s.TimeoutSeconds > MaxTimeoutSeconds) {
		return chat.FieldError("webhook.timeoutSeconds", "webhook.timeoutSeconds must be between %d and %d", MinTimeoutSeconds, MaxTimeoutSeconds)
	}
	return nil
}

// Timeout is the per-request timeout.
func (s Settings) Timeout() time.Duration {
	if s.TimeoutSeconds == 0 {
		return DefaultTimeoutSeconds * time.Second
	}
	return time.Duration(s.TimeoutSeconds) * time.Second
}

// Redacted is the view for API responses: the header value, if any, is
// replaced by RedactedValue so admins see that one is set but not what it is.
func (s Settings) Redacted() Settings {
	if s.HeaderValue != "" {
		s.HeaderValue = RedactedValue
	}
	return s
}

// KeepSecret returns s with the header value taken from prev when s carries
// RedactedValue (an admin saved the form without retyping the secret) and
// the header name is unchanged. Moving the secret to another header name
// needs it retyped, so a changed form cannot leak it under a new name.
func (s Settings) KeepSecret(prev Settings) Settings {
	if s.HeaderValue == RedactedValue && strings.EqualFold(s.HeaderName, prev.HeaderName) {
		s.HeaderValue = prev.HeaderValue
	}
	return s
}

func validateURL(raw string) error {
	const f = "webhook.url"
	if raw == "" {
		return chat.FieldError(f, "webhook.url is required")
	}
	if len(raw) > maxURLLen {
		return chat.FieldError(f, "webhook.url must be at most %d bytes", maxURLLen)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] == 0x7f {
			return chat.FieldError(f, "webhook.url must not contain spaces or control characters")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return chat.FieldError(f, "webhook.url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return chat.FieldError(f, "webhook.url must be an absolute http:// or https:// URL")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return chat.FieldError(f, "webhook.url must name a host")
	}
	// Credentials in the URL would end up in logs and error messages; the
	// header is the one place for a secret.
	if u.User != nil {
		return chat.FieldError(f, "webhook.url must not contain a user name or password; use webhook.headerName and webhook.headerValue")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return chat.FieldError(f, "webhook.url must not contain a #fragment")
	}
	return nil
}

// reservedHeaders are set by Switchboard or by net/http, or are hop-by-hop:
// letting an admin set them would corrupt the request or its framing.
var reservedHeaders = map[string]bool{
	"Accept-Encoding":     true,
	"Connection":          true,
	"Content-Encoding":    true,
	"Content-Length":      true,
	"Content-Type":        true,
	"Cookie2":             true,
	"Date":                true,
	"Expect":              true,
	"Host":                true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Proxy-Connection":    true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"User-Agent":          true,
}

func validateHeaderName(name string) error {
	const f = "webhook.headerName"
	if len(name) > maxHeaderNameLen {
		return chat.FieldError(f, "webhook.headerName must be at most %d characters", maxHeaderNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return chat.FieldError(f, "webhook.headerName must be a valid HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)")
		}
	}
	canon := http.CanonicalHeaderKey(name)
	if reservedHeaders[canon] || strings.HasPrefix(canon, "Sec-") || strings.HasPrefix(canon, "Proxy-") {
		return chat.FieldError(f, "webhook.headerName %s is reserved; choose another header, for example Authorization or X-Api-Key", canon)
	}
	return nil
}

func validateHeaderValue(v string) error {
	const f = "webhook.headerValue"
	if len(v) > maxHeaderValueLen {
		return chat.FieldError(f, "webhook.headerValue must be at most %d bytes", maxHeaderValueLen)
	}
	for i := 0; i < len(v); i++ {
		// RFC 9110 field-value: visible characters, space, tab and
		// obs-text. CR and LF would let a value inject further headers.
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return chat.FieldError(f, "webhook.headerValue must not contain line breaks or control characters")
		}
	}
	if strings.TrimSpace(v) != v {
		return chat.FieldError(f, "webhook.headerValue must not start or end with whitespace")
	}
	return nil
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
