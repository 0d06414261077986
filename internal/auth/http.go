package auth

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// SessionCookieName is the dashboard's session cookie.
	SessionCookieName = "switchboard_session"
	// CSRFHeader carries the session's CSRF token on cookie-authenticated
	// changes. A custom header cannot be set by a cross-site form or a
	// simple cross-site fetch, which is what makes the check work.
	CSRFHeader = "X-CSRF-Token"
)

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
