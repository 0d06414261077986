package chat

import (
	"bytes"
	"encoding/json"
	"math"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that keep one entity from hogging storage or a client's screen.
const (
	MaxIDLen          = 64
	MaxNameLen        = 200
	MaxEmailLen       = 254
	MaxTextLen        = 32 << 10 // bytes of message text
	MaxMetadataKeys   = 64
	MaxMetadataKeyLen = 128
	MaxMetadataBytes  = 256 << 10 // all keys and values of one metadata map
	MaxChatContext    = 64 << 10
	MaxAttachments    = 10
	MaxClientKeyLen   = 128
	MinPasswordLen    = 8
	MaxPasswordLen    = 256
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)

// ValidateID checks that an id is non-empty, bounded and made of safe characters.
// Ids come from URLs and JSON bodies, and bots derive session ids from them.
func ValidateID(field, id string) error {
	if id == "" {
		return FieldError(field, "%s is required", field)
	}
	if len(id) > MaxIDLen || !idPattern.MatchString(id) {
		return FieldError(field, "%s is not a valid id", field)
	}
	return nil
}

// MaxUserIDLen bounds a contact's external user id.
const MaxUserIDLen = 191

// ValidateUserID checks the id a customer's site gives its user. Sites use
// emails, phone numbers and their own database keys, so the rule is only:
// bounded, one token of printable text.
func ValidateUserID(field, id string) error {
	if id == "" {
		return FieldError(field, "%s is required", field)
	}
	if len(id) > MaxUserIDLen || !utf8.ValidString(id) {
		return FieldError(field, "%s must be at most %d bytes of text", field, MaxUserIDLen)
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return FieldError(field, "%s must not contain spaces or control characters", field)
		}
	}
	return nil
}

// ValidateName checks a display name; empty is allowed when optional.
func ValidateName(field, name string, required bool) error {
	if name == "" {
		if required {
			return FieldError(field, "%s is required", field)
		}
		return nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen || strings.ContainsAny(name, "\x00\r\n") {
		return FieldError(field, "%s must be at most %d characters on one line", field, MaxNameLen)
	}
	return nil
}

// NormalizeEmail lower-cases and checks an address; empty stays empty.
func NormalizeEmail(field, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", nil
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > MaxEmailLen {
		return "", FieldError(field, "%s is not a valid email address", field)
	}
	return strings.ToLower(email), nil
}

var languagePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// ValidateLanguage checks a BCP-47 tag's form ("pt-BR", "es-419", "zh-Hant-TW").
func ValidateLanguage(tag string) error {
	if tag == "" {
		return nil
	}
	if len(tag) > 35 || !languagePattern.MatchString(tag) {
		return FieldError("language", "language must be a BCP-47 tag such as en, pt-BR or es-419")
	}
	return nil
}

// ValidateChatContext checks that a chat context is a JSON object of bounded size.
func ValidateChatContext(raw json.RawMessage) error {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if len(raw) > MaxChatContext {
		return FieldError("chatContext", "chatContext must be at most %d bytes", MaxChatContext)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return FieldError("chatContext", "chatContext must be a JSON object")
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return FieldError("password", "password must be %d to %d characters", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// ValidateLocation checks that a point is on the globe.
func ValidateLocation(l *Location) error {
	if l == nil {
		return nil
	}
	if math.IsNaN(l.Lat) || math.IsNaN(l.Lon) || l.Lat < -90 || l.Lat > 90 || l.Lon < -180 || l.Lon > 180 {
		return FieldError("location", "location must have lat in [-90, 90] and lon in [-180, 180]")
	}
	return nil
}

// ValidateClientKey checks an idempotency key.
func ValidateClientKey(k string) error {
	if k == "" {
		return nil
	}
	if len(k) > MaxClientKeyLen || !utf8.ValidString(k) || strings.ContainsAny(k, "\x00") {
		return FieldError("clientKey", "clientKey must be at most %d bytes of text", MaxClientKeyLen)
	}
	return nil
}
