package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// ContactTokenHeader carries a contact token (POST
// /api/v1/contacts/{id}/token) on the routes a widget calls for its
// contact. A header, not a cookie or the query: a browser never sends it by
// itself, so it needs no CSRF defence, and it stays out of access logs.
const ContactTokenHeader = "X-Contact-Token"

// authenticateAs establishes r's actor for a route of the given access: a
// contactOrStaff route takes a contact token when one is presented without
// an API key, and otherwise the credentials every authenticated route takes.
func (s *server) authenticateAs(a access, r *http.Request) (*http.Request, error) {
	tok := r.Header.Get(ContactTokenHeader)
	// As everywhere, a presented API key is the only credential considered.
	if _, keyPresented, _ := auth.APIKeyFrom(r); a != contactOrStaff || tok == "" || keyPresented {
		return s.authenticate(r)
	}
	appID, contactID, err := s.svc.Keys().VerifyContactToken(tok, time.Now())
	if err != nil {
		return nil, err
	}
	// A token outlives nothing it names: a deleted contact is refused.
	if _, err := s.svc.Store().GetContact(r.Context(), appID, contactID); err != nil {
		if chat.IsCode(err, chat.CodeNotFound) {
			return nil, auth.ErrContactToken
		}
		return nil, err
	}
	return r.WithContext(context.WithValue(r.Context(), actorKey, service.ContactActor(appID, contactID))), nil
}

type csatJSON struct {
	ConversationID string    `json:"conversationId"`
	Rating         int64     `json:"rating"`
	Comment        string    `json:"comment,omitempty"`
	At             time.Time `json:"at"`
}

func (s *server) submitCSAT(w http.ResponseWriter, r *http.Request) error {
	var in chat.CSAT
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := s.svc.SubmitCSAT(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, csatJSON{ConversationID: e.ConversationID, Rating: e.Value, Comment: e.Comment, At: e.At})
	return nil
}

func (s *server) analyticsSummary(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := timeParam(q, "from")
	if err != nil {
		return err
	}
	to, err := timeParam(q, "to")
	if err != nil {
		return err
	}
	sum, err := s.svc.AnalyticsSummary(r.Context(), actorOf(r), from, to)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, sum)
	return nil
}

// timeParam reads an RFC 3339 time; absent is the zero time.
func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, chat.FieldError(name, "%s must be an RFC 3339 time such as 2026-01-31T00:00:00Z", name)
	}
	return t.UTC(), nil
}

func (s *server) talkToHuman(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.TalkToHuman(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}
