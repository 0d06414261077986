package httpapi

import (
	"context"
	"net/http"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

type ctxKey int

const (
	actorKey ctxKey = iota
	sessionKey
)

// sessionInfo is what a cookie-authenticated request carries besides its actor.
type sessionInfo struct {
	token   string
	session *chat.Session
}

var (
	errNoCredentials = chat.Errorf(chat.CodeUnauthenticated, "sign in, or send an API key as Authorization: Bearer <key> or Api-Key: <key>")
	errCSRF          = chat.Errorf(chat.CodeForbidden, "missing or wrong "+auth.CSRFHeader+" header: send the csrfToken from sign-in with every change")
	errCrossOrigin   = chat.Errorf(chat.CodeForbidden, "cross-origin request refused")
)

// authenticate establishes the actor of r. An API key, when presented, is
// the only credential considered: a wrong key fails rather than falling back
// to a cookie the browser happened to send. Cookie sessions must prove, on
// every change, that the request comes from our own page.
func (s *server) authenticate(r *http.Request) (*http.Request, error) {
	ctx := r.Context()
	if key, presented, err := auth.APIKeyFrom(r); presented {
		if err != nil {
			return nil, err
		}
		actor, err := s.svc.AuthenticateAPIKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return r.WithContext(context.WithValue(ctx, actorKey, actor)), nil
	}
	c, err := r.Cookie(auth.SessionCookieName)
	if err != nil || c.Value == "" {
		return nil, errNoCredentials
	}
	actor, sess, err := s.svc.AuthenticateSession(ctx, c.Value)
	if err != nil {
		return nil, err
	}
	if unsafeMethod(r.Method) {
		if err := s.checkBrowserChange(r, sess); err != nil {
			return nil, err
		}
	}
	ctx = context.WithValue(ctx, actorKey, actor)
	ctx = context.WithValue(ctx, sessionKey, sessionInfo{token: c.Value, session: sess})
	return r.WithContext(ctx), nil
}

// checkBrowserChange is the CSRF defence for cookie-authenticated changes:
// the session's CSRF token in a custom header (which no cross-site form or
// simple fetch can set) and, when the browser says where the request comes
// from, a same-origin check as a second wall.
func (s *server) checkBrowserChange(r *http.Request, sess *chat.Session) error {
	if !auth.CheckCSRF(sess.CSRFToken, r.Header.Get(auth.CSRFHeader)) {
		return errCSRF
	}
	return s.checkOrigin(r)
}

// checkOrigin refuses a request whose Origin or Referer names another site.
// Requests without either (non-browser clients) pass: the CSRF token, or for
// sign-in the password, is what protects them.
func (s *server) checkOrigin(r *http.Request) error {
	if r.Header.Get("Origin") == "" && r.Header.Get("Referer") == "" {
		return nil
	}
	if !auth.SameOrigin(r, s.publicURL) {
		return errCrossOrigin
	}
	return nil
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// actorOf returns the actor authenticate established. Routes without
// authentication never call it.
func actorOf(r *http.Request) service.Actor {
	a, _ := r.Context().Value(actorKey).(service.Actor)
	return a
}

// sessionOf returns the cookie session of r, if it was authenticated by one.
func sessionOf(r *http.Request) (sessionInfo, bool) {
	si, ok := r.Context().Value(sessionKey).(sessionInfo)
	return si, ok
}
