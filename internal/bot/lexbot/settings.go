// Package lexbot connects conversations to Amazon Lex V2 bots with the
// official aws-sdk-go-v2 clients: lexruntimev2 for turns and lexmodelsv2
// for validating settings and discovering an account's bots.
package lexbot

import (
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Defaults from SPEC §4.
const (
	DefaultMaxConsecutiveFallbacks = 2
	DefaultHandoffAttribute        = "handoff"
	MaxMaxConsecutiveFallbacks     = 20
)

// RedactedValue stands in for the secret access key in API responses. A
// client that sends it back unchanged keeps the stored secret (KeepSecret).
const RedactedValue = "********"

var (
	// Lex V2 bot and alias ids are ten upper-case letters or digits;
	// TSTALIASID is the test alias every bot has.
	botIDPattern   = regexp.MustCompile(`^[0-9A-Z]{10}$`)
	aliasIDPattern = regexp.MustCompile(`^(TSTALIASID|[0-9A-Z]{10})$`)
	// Names as the Lex console allows them: a bot builder may type the
	// bot's or alias's name where an id is asked for, as Kommunicate's
	// form does; setup resolves it to the id.
	namePattern     = regexp.MustCompile(`^[0-9a-zA-Z][_0-9a-zA-Z-]{0,99}$`)
	regionPattern   = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	accessKeyIDRe   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	localeIDPattern = regexp.MustCompile(`^[a-z]{2,3}_([A-Z]{2}|[0-9]{3})$`)
	attributeRe     = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,100}$`)
)

// Settings is a Lex bot's connector configuration, stored (secret sealed)
// as the bot's Settings JSON and posted by admins as the "lex" object of
// POST /api/v1/bots.
type Settings struct {
	Region string `json:"region"`
	// BotID and BotAliasID may hold names on input; IsBotID/IsAliasID tell
	// which, and setup stores the resolved ids.
	BotID      string `json:"botId"`
	BotAliasID string `json:"botAliasId"`
	// AccessKeyID and SecretAccessKey are an IAM user's keys with
	// AmazonLexRunBotsOnly (and AmazonLexReadOnly for validation).
	// SecretAccessKey is a secret: never in errors, logs or responses.
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// DefaultLocale is used when the contact's language matches no enabled
	// locale; empty means the first enabled locale, en_US when enabled.
	DefaultLocale string `json:"defaultLocale,omitempty"`
	// MaxConsecutiveFallbacks is how many FallbackIntent turns in a row
	// the bot may answer before it counts as giving up; nil means the
	// default of 2 and 0 turns the rule off (SPEC §4.1).
	MaxConsecutiveFallbacks *int `json:"maxConsecutiveFallbacks,omitempty"`
	// HandoffAttribute names the session attribute whose value "true"
	// asks for a human; empty means "handoff".
	HandoffAttribute string `json:"handoffAttribute,omitempty"`
	// Endpoint, when set, replaces AWS's endpoints for both the runtime
	// and the model API: a VPC endpoint, or Switchboard's local runtime.
	Endpoint string `json:"endpoint,omitempty"`
	// Locales are the locales enabled on the alias, read by validation.
	// Clients cannot set them: a posted value is ignored.
	Locales []string `json:"locales,omitempty"`
}

// ParseSettings decodes and validates a posted "lex" object. Locales are
// cleared: only validation against Lex may fill them.
func ParseSettings(raw []byte) (Settings, error) {
	var s Settings
	if err := bot.DecodeSettings(raw, "lex", &s); err != nil {
		return Settings{}, err
	}
	s.Locales = nil
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Validate checks the settings' form (not whether Lex accepts them).
// Messages never contain the secret.
func (s Settings) Validate() error {
	if s.Region == "" {
		return chat.FieldError("lex.region", "lex.region is required, for example us-east-1")
	}
	if !regionPattern.MatchString(s.Region) {
		return chat.FieldError("lex.region", "lex.region is not an AWS region name (for example us-east-1 or eu-west-2)")
	}
	if s.BotID == "" {
		return chat.FieldError("lex.botId", "lex.botId is required: the bot's id (10 characters) or its name")
	}
	if !botIDPattern.MatchString(s.BotID) && !namePattern.MatchString(s.BotID) {
		return chat.FieldError("lex.botId", "lex.botId must be a Lex bot id (10 letters or digits) or a bot name")
	}
	if s.BotAliasID == "" {
		return chat.FieldError("lex.botAliasId", "lex.botAliasId is required: the alias id (TSTALIASID for the test alias) or its name")
	}
	if !aliasIDPattern.MatchString(s.BotAliasID) && !namePattern.MatchString(s.BotAliasID) {
		return chat.FieldError("lex.botAliasId", "lex.botAliasId must be a Lex alias id (10 letters or digits) or an alias name")
	}
	if s.AccessKeyID == "" {
		return chat.FieldError("lex.accessKeyId", "lex.accessKeyId is required")
	}
	if !accessKeyIDRe.MatchString(s.AccessKeyID) {
		return chat.FieldError("lex.accessKeyId", "lex.accessKeyId is not an AWS access key id (upper-case letters and digits, like AKIA…)")
	}
	if s.SecretAccessKey == "" {
		return chat.FieldError("lex.secretAccessKey", "lex.secretAccessKey is required")
	}
	if len(s.SecretAccessKey) > 128 || strings.ContainsFunc(s.SecretAccessKey, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return chat.FieldError("lex.secretAccessKey", "lex.secretAccessKey is not an AWS secret access key")
	}
	if s.DefaultLocale != "" && !localeIDPattern.MatchString(s.DefaultLocale) {
		return chat.FieldError("lex.defaultLocale", "lex.defaultLocale must be a Lex locale id such as en_US or es_419")
	}
	if n := s.MaxConsecutiveFallbacks; n != nil && (*n < 0 || *n > MaxMaxConsecutiveFallbacks) {
		return chat.FieldError("lex.maxConsecutiveFallbacks", "lex.maxConsecutiveFallbacks must be between 0 (off) and %d; leave it out for the default of %d", MaxMaxConsecutiveFallbacks, DefaultMaxConsecutiveFallbacks)
	}
	if s.HandoffAttribute != "" && !attributeRe.MatchString(s.HandoffAttribute) {
		return chat.FieldError("lex.handoffAttribute", "lex.handoffAttribute must be 1 to 100 letters, digits or _.:-")
	}
	if s.Endpoint != "" {
		if err := validateEndpoint("lex.endpoint", s.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

// validateEndpoint checks an endpoint URL given as field f. Private and
// loopback addresses are allowed on purpose: the endpoint is set by an
// admin, and a VPC endpoint or the local runtime lives on exactly such an
// address. Link-local ones are not: no Lex endpoint lives there, but the
// cloud's instance-metadata service (169.254.169.254) does.
func validateEndpoint(f, raw string) error {
	if len(raw) > 2048 || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return chat.FieldError(f, "%s must be a URL of at most 2048 bytes without spaces", f)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.Opaque != "" {
		return chat.FieldError(f, "%s must be an absolute http:// or https:// URL", f)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return chat.FieldError(f, "%s must not contain credentials, a query or a fragment", f)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && isLinkLocal(ip) {
		return chat.FieldError(f, "%s must not be a link-local address such as the instance-metadata service", f)
	}
	return nil
}

// isLinkLocal reports whether ip is link-local (169.254.0.0/16, fe80::/10),
// also when written as an IPv4-mapped IPv6 address.
func isLinkLocal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast()
}

// IsBotID reports whether s.BotID is an id rather than a name.
func (s Settings) IsBotID() bool { return botIDPattern.MatchString(s.BotID) }

// IsAliasID reports whether s.BotAliasID is an id rather than a name.
func (s Settings) IsAliasID() bool { return aliasIDPattern.MatchString(s.BotAliasID) }

// Fallbacks is the effective MaxConsecutiveFallbacks; 0 means the rule is
// off.
func (s Settings) Fallbacks() int {
	if s.MaxConsecutiveFallbacks == nil {
		return DefaultMaxConsecutiveFallbacks
	}
	return *s.MaxConsecutiveFallbacks
}

// Attribute is the effective HandoffAttribute.
func (s Settings) Attribute() string {
	if s.HandoffAttribute == "" {
		return DefaultHandoffAttribute
	}
	return s.HandoffAttribute
}

// Redacted is the view for API responses.
func (s Settings) Redacted() Settings {
	if s.SecretAccessKey != "" {
		s.SecretAccessKey = RedactedValue
	}
	return s
}

// KeepSecret returns s with the secret taken from prev when s carries
// RedactedValue and the access key id is unchanged: a secret belongs to
// its key id, and a form that changes the key must retype the secret.
func (s Settings) KeepSecret(prev Settings) Settings {
	if s.SecretAccessKey == RedactedValue && s.AccessKeyID == prev.AccessKeyID {
		s.SecretAccessKey = prev.SecretAccessKey
	}
	return s
}
