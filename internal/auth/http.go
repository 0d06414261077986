package auth

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

const (
	// SessionCookieName is the dashboard's session cookie.
	SessionCookieName = "switchboard_session"
	// CSRFHeader carries the session's CSRF token on cookie-authenticated
	// changes. A custom header cannot be set by a cross-site form or a
	// simple cross-site fetch, which is what makes the check work.
	CSRFHeader = "X-CSRF-Token"
	// APIKeyHeader is Kommunicate's header for API keys, accepted beside
	// Authorization: Bearer so that migrating integrations work unchanged.
	APIKeyHeader = "Api-Key"
)

// errBadAuthorization is the answer to an Authorization header that is not
// a bearer key.
var errBadAuthorization = chat.Errorf(chat.CodeUnauthenticated, "the Authorization header must be: Bearer <API key>")

// APIKeyFrom finds the API key a request presents, in Authorization: Bearer
// or in Api-Key. presented is true when the client tried to send one, even a
// malformed one, so that callers refuse it rather than fall back to another
// credential.
func APIKeyFrom(r *http.Request) (key string, presented bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(h, " ")
		cred = strings.TrimSpace(cred)
		if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
			return "", true, errBadAuthorization
		}
		return cred, true, nil
	}
	if h := strings.TrimSpace(r.Header.Get(APIKeyHeader)); h != "" {
		return h, true, nil
	}
	return "", false, nil
}

// SessionCookie builds the session cookie. HttpOnly keeps the token away from
// scripts (an XSS cannot steal it); SameSite=Lax keeps it off cross-site
// subrequests and POSTs while still letting a link from an email open the
// dashboard signed in. secure should be true whenever the public URL is
// https. An empty token builds a cookie that deletes the session cookie.
func SessionCookie(token string, expires time.Time, secure bool) *http.Cookie {
	c := &http.Cookie{
		Name:     SessionCookieName,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if token == "" {
		c.MaxAge = -1
		c.Expires = time.Time{}
	}
	return c
}

// SameOrigin reports whether a request was made by a page of this
// installation: its Origin header (or, for older browsers that omit it, its
// Referer) must name the request's own host or the configured public URL.
// A request carrying neither header is refused: every current browser sends
// Origin on a cross-origin or state-changing request, so its absence means
// something stripped it, and for cookie-authenticated changes failing closed
// is the safe side. Use it in addition to the CSRF token, not instead.
func SameOrigin(r *http.Request, publicURL string) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return false
	}
	scheme, host, ok := origin(src)
	if !ok {
		return false
	}
	if publicURL != "" {
		if ps, ph, ok := origin(publicURL); ok && ps == scheme && ph == host {
			return true
		}
	}
	if r.Host == "" {
		return false
	}
	reqScheme := ""
	if r.TLS != nil {
		reqScheme = "https"
	}
	// Behind a TLS-terminating proxy the request reaches us over plain
	// http, so without TLS on the connection only the host is compared.
	if reqScheme != "" && reqScheme != scheme {
		return false
	}
	return normalizeHost(scheme, strings.ToLower(r.Host)) == host
}

// origin reduces a URL to its scheme and host with the default port removed,
// which is what a browser's Origin header contains.
func origin(raw string) (scheme, host string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", "", false
	}
	scheme = strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", "", false
	}
	return scheme, normalizeHost(scheme, strings.ToLower(u.Host)), true
}

func normalizeHost(scheme, host string) string {
	if scheme == "https" {
		return strings.TrimSuffix(host, ":443")
	}
	return strings.TrimSuffix(host, ":80")
}
