package chat

import (
	"net/url"
	"regexp"
	"strings"
)

// WidgetSettings are an app's web widget options, set by its admins.
type WidgetSettings struct {
	// IdentityVerification refuses identified contacts (a userId) whose
	// userHash is not the HMAC of the user id under the app's identity
	// secret, so that nobody can open another user's conversations by
	// guessing their id. Anonymous visitors are unaffected.
	IdentityVerification bool `json:"identityVerification"`
	// ThemeColor is the launcher's and the header's colour, "#rrggbb".
	ThemeColor string `json:"themeColor,omitempty"`
	// Position is the launcher's corner: "right" (the default) or "left".
	Position string `json:"position,omitempty"`
	// TalkToHuman shows the "Talk to a human" button while a bot answers.
	TalkToHuman bool `json:"talkToHuman"`
	// AccessTokenURL is Kommunicate's Access Token URL: when set, an
	// identified user's accessToken is checked by POSTing {userId, token}
	// to it, and only a plain "true" lets the user in.
	AccessTokenURL string `json:"accessTokenUrl,omitempty"`
	// CSAT is how the widget asks for a rating once a conversation is
	// resolved: CSATFaces (the default), CSATStars, or CSATOff, which shows
	// no prompt after resolution and refuses ratings from the contact.
	CSAT string `json:"csat,omitempty"`
}

// CSAT prompt styles. Both submit on Kommunicate's 1–10 scale: three faces
// as 1, 5 and 10, five stars as 2, 4, 6, 8 and 10.
const (
	CSATFaces = "faces"
	CSATStars = "stars"
	CSATOff   = "off"
)

// Widget defaults, applied where a setting is empty.
const (
	DefaultThemeColor     = "#2457d6"
	DefaultWidgetPosition = "right"
)

var themeColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Normalize validates w and fills its defaults.
func (w *WidgetSettings) Normalize() error {
	if w.ThemeColor == "" {
		w.ThemeColor = DefaultThemeColor
	}
	if !themeColor.MatchString(w.ThemeColor) {
		return FieldError("themeColor", "themeColor must be a colour like #2457d6")
	}
	w.ThemeColor = strings.ToLower(w.ThemeColor)
	if w.Position == "" {
		w.Position = DefaultWidgetPosition
	}
	if w.Position != "right" && w.Position != "left" {
		return FieldError("position", `position must be "right" or "left"`)
	}
	if w.CSAT == "" {
		w.CSAT = CSATFaces
	}
	if w.CSAT != CSATFaces && w.CSAT != CSATStars && w.CSAT != CSATOff {
		return FieldError("csat", `csat must be "faces", "stars" or "off"`)
	}
	if w.AccessTokenURL != "" {
		u, err := url.Parse(w.AccessTokenURL)
		if err != nil || len(w.AccessTokenURL) > 2048 || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return FieldError("accessTokenUrl", "accessTokenUrl must be an absolute http(s) URL without credentials")
		}
	}
	return nil
}
