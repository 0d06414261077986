package realtime

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// principal is who a connection belongs to. Exactly one of agentID,
// apiKeyID and contactID is set.
type principal struct {
	appID     string
	agentID   string
	apiKeyID  string
	contactID string
	actor     service.Actor
}

// sender is the identity whose own typing a connection does not get back;
// API keys act for several identities and have none.
func (p *principal) sender() (chat.Sender, bool) {
	switch {
	case p.agentID != "":
		return chat.Sender{Type: chat.SenderAgent, ID: p.agentID}, true
	case p.contactID != "":
		return chat.Sender{Type: chat.SenderContact, ID: p.contactID}, true
	}
	return chat.Sender{}, false
}

// staff reports whether the connection may see the whole app: the inbox,
// presence, every conversation.
func (p *principal) staff() bool { return p.contactID == "" }

// TokenParam is the query parameter that carries a contact token.
const TokenParam = "token"

var (
	errNoCredentials = chat.Errorf(chat.CodeUnauthenticated, "send an API key (Authorization: Bearer), a session cookie, or ?token=<contact token>")
	errCrossOrigin   = chat.Errorf(chat.CodeForbidden, "cookie connections must come from a page of this installation")
)

// authenticate establishes the connection's principal. As in the REST API,
// a presented API key is the only credential considered, so a wrong key
// never falls back to a cookie the browser happened to send.
func (g *Gateway) authenticate(r *http.Request) (principal, error) {
	ctx, cancel := context.WithTimeout(r.Context(), opTimeout)
	defer cancel()
	if key, presented, err := auth.APIKeyFrom(r); presented {
		if err != nil {
			return principal{}, err
		}
		a, err := g.o.Service.AuthenticateAPIKey(ctx, key)
		if err != nil {
			return principal{}, err
		}
		return principal{appID: a.AppID, apiKeyID: a.APIKeyID, actor: a}, nil
	}
	if tok := r.URL.Query().Get(TokenParam); tok != "" {
		appID, contactID, err := g.o.Keys.VerifyContactToken(tok, time.Now())
		if err != nil {
			return principal{}, err
		}
		// A token outlives nothing it names: a deleted contact is refused.
		if _, err := g.o.Store.GetContact(ctx, appID, contactID); err != nil {
			if chat.IsCode(err, chat.CodeNotFound) {
				return principal{}, auth.ErrContactToken
			}
			return principal{}, err
		}
		return principal{appID: appID, contactID: contactID, actor: service.ContactActor(appID, contactID)}, nil
	}
	c, err := r.Cookie(auth.SessionCookieName)
	if err != nil || c.Value == "" {
		return principal{}, errNoCredentials
	}
	// A browser sends cookies with a WebSocket handshake from any site and
	// WebSockets are not covered by CORS, so the Origin check is the whole
	// CSRF defence here; browsers always send Origin on a handshake.
	if !auth.SameOrigin(r, g.o.PublicURL) || r.Header.Get("Origin") == "" {
		return principal{}, errCrossOrigin
	}
	a, _, err := g.o.Service.AuthenticateSession(ctx, c.Value)
	if err != nil {
		return principal{}, err
	}
	return principal{appID: a.AppID, agentID: a.AgentID, actor: a}, nil
}
