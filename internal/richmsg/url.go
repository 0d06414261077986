package richmsg

import (
	"net"
	"net/url"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// MaxURLLen bounds any URL in a rich message; longer ones are refused rather
// than cut, because a cut URL points somewhere else.
const MaxURLLen = 2048

// SafeURL returns the canonical form of raw when a browser may follow it,
// and an error otherwise.
//
// Allowed: https: URLs with a host, and http: URLs whose host is localhost,
// 127.0.0.1 or [::1] (development). Refused: every other scheme (javascript:,
// data:, vbscript:, file:, …, in any letter case), protocol-relative
// ("//host") and relative URLs, URLs with user info (https://good@evil),
// backslashes, whitespace or control characters anywhere (browsers strip
// them, which is how "java\tscript:" gets through naive checks), and
// non-ASCII host names (homograph spoofing; send punycode instead).
//
// Kommunicate's own docs show "www.google.com" without a scheme; such a
// bare host name is upgraded to https:// and upgraded is true, so the caller
// can warn the bot's owner.
func SafeURL(raw string) (clean string, upgraded bool, err error) {
	s := strings.Trim(raw, " ")
	if s == "" {
		return "", false, errURL("is empty")
	}
	if len(s) > MaxURLLen {
		return "", false, errURL("is longer than %d bytes", MaxURLLen)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\\' || r == '\u2028' || r == '\u2029' || r == 0xfeff {
			return "", false, errURL("contains whitespace, a control character or a backslash")
		}
	}
	if strings.HasPrefix(s, "//") {
		return "", false, errURL("is protocol-relative; write https://")
	}
	if i := strings.IndexAny(s, ":/?#"); i >= 0 && s[i] == ':' {
		scheme := strings.ToLower(s[:i])
		if scheme != "https" && scheme != "http" {
			return "", false, errURL("uses the %q scheme; only https: is allowed", truncateRunes(scheme, 20))
		}
	} else {
		// No scheme. Accept a bare host name ("www.example.com/x"), which
		// bots copy from Kommunicate's examples; refuse a relative path,
		// which would resolve against the widget's own origin.
		host := s
		if j := strings.IndexAny(host, "/?#"); j >= 0 {
			host = host[:j]
		}
		if !strings.Contains(host, ".") || strings.HasPrefix(host, ".") || !asciiHost(host) {
			return "", false, errURL("is not an absolute https URL")
		}
		s = "https://" + s
		upgraded = true
	}
	u, perr := url.Parse(s)
	if perr != nil {
		return "", false, errURL("is malformed")
	}
	if u.Opaque != "" || u.Host == "" {
		return "", false, errURL("has no host")
	}
	if u.User != nil {
		return "", false, errURL("carries a user name or password")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := u.Hostname()
	if host == "" || !asciiHost(host) {
		return "", false, errURL("has an invalid host")
	}
	if port := u.Port(); port != "" && (len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return "", false, errURL("has an invalid port")
	}
	if u.Scheme == "http" && !isLoopbackName(host) {
		return "", false, errURL("uses http:, which is allowed only for localhost; use https:")
	}
	u.Host = strings.ToLower(u.Host)
	out := u.String()
	if len(out) > MaxURLLen {
		return "", false, errURL("is longer than %d bytes", MaxURLLen)
	}
	return out, upgraded, nil
}

func errURL(format string, args ...any) error {
	return chat.Errorf(chat.CodeInvalid, format, args...)
}

func isLoopbackName(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// asciiHost accepts DNS names (letters, digits, '-', '.', and '_' which some
// CDNs use) and IP literals.
func asciiHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// isURLKey names the payload keys that hold URLs; the fuzz test and the
// fallback text use it to find them in any payload.
func isURLKey(k string) bool {
	switch k {
	case "url", "imgSrc", "headerImgSrc", "formAction":
		return true
	}
	return false
}
