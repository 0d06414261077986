package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Routes the dashboard needs beyond the rest of the API: invitations for
// new agents, and the bot side of a conversation for the contact panel.

type inviteJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      chat.Role `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Token and URL are present only in the answer that created the
	// invitation: only the token's hash is kept.
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`
}

func toInvite(inv *store.Invite) inviteJSON {
	return inviteJSON{ID: inv.ID, Email: inv.Email, Role: inv.Role, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

func (s *server) createInvite(w http.ResponseWriter, r *http.Request) error {
	var in service.NewInvite
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	inv, token, err := s.svc.CreateInvite(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	out := toInvite(inv)
	out.Token = token
	// The dashboard routes by fragment, so the token never reaches a
	// server log through the page request.
	out.URL = s.publicURL + "/#/invite/" + token
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (s *server) listInvites(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.ListInvites(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := make([]inviteJSON, 0, len(list))
	for i := range list {
		out = append(out, toInvite(&list[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"invites": out})
	return nil
}

func (s *server) deleteInvite(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.RevokeInvite(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) getJoin(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.svc.InviteByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toInvite(inv))
	return nil
}

// acceptJoin creates the invitee's account and signs them in, answering
// like sign-in.
func (s *server) acceptJoin(w http.ResponseWriter, r *http.Request) error {
	// Like sign-in: a cross-site page must not create an account and sign
	// the visitor's browser into it.
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	var in service.AcceptInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	token, sess, agent, err := s.svc.AcceptInvite(r.Context(), r.PathValue("token"), in)
	if err != nil {
		return err
	}
	http.SetCookie(w, auth.SessionCookie(token, sess.ExpiresAt, s.secure))
	httpx.WriteJSON(w, http.StatusCreated, loginResponse{Agent: toAgent(agent), CSRFToken: sess.CSRFToken})
	return nil
}

func (s *server) botContext(w http.ResponseWriter, r *http.Request) error {
	bc, err := s.svc.BotContext(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, bc)
	return nil
}

type inboxItemJSON struct {
	Conversation conversationJSON `json:"conversation"`
	Contact      inboxContactJSON `json:"contact"`
}

// inboxContactJSON is as much of the contact as a list row shows.
type inboxContactJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	UserID string `json:"userId"`
}

type inboxPageJSON struct {
	Items      []inboxItemJSON `json:"items"`
	NextCursor *string         `json:"nextCursor"`
}

// inbox serves the dashboard's lists. Its parameters are the conversation
// list's, except that status takes several values separated by commas, and
// q searches.
func (s *server) inbox(w http.ResponseWriter, r *http.Request) error {
	params := r.URL.Query()
	statuses := params.Get("status")
	text := params.Get("q")
	params.Del("status")
	params.Del("q")
	f, err := conversationFilter(params)
	if err != nil {
		return err
	}
	q := store.InboxQuery{AssigneeType: f.AssigneeType, AssigneeID: f.AssigneeID, Unassigned: f.Unassigned,
		TeamID: f.TeamID, Search: text, Cursor: f.Cursor, Limit: f.Limit}
	if statuses != "" {
		for _, v := range strings.Split(statuses, ",") {
			st, err := chat.ParseStatus(strings.TrimSpace(v))
			if err != nil {
				return err
			}
			q.Statuses = append(q.Statuses, st)
		}
	}
	page, err := s.svc.Inbox(r.Context(), actorOf(r), q)
	if err != nil {
		return err
	}
	out := inboxPageJSON{Items: make([]inboxItemJSON, 0, len(page.Items))}
	for i := range page.Items {
		it := &page.Items[i]
		out.Items = append(out.Items, inboxItemJSON{Conversation: toConversation(&it.Conversation),
			Contact: inboxContactJSON{ID: it.Contact.ID, Name: it.Contact.Name, Email: it.Contact.Email, UserID: it.Contact.UserID}})
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

type noteJSON struct {
	ID        string    `json:"id"`
	AgentID   string    `json:"agentId"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"createdAt"`
}

type noteRequest struct {
	Text string `json:"text"`
}

func (s *server) addNote(w http.ResponseWriter, r *http.Request) error {
	var in noteRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	n, err := s.svc.AddNote(r.Context(), actorOf(r), r.PathValue("id"), in.Text)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, noteJSON{ID: n.ID, AgentID: n.AgentID, Text: n.Text, CreatedAt: n.CreatedAt})
	return nil
}

func (s *server) listNotes(w http.ResponseWriter, r *http.Request) error {
	notes, err := s.svc.ListNotes(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]noteJSON, 0, len(notes))
	for _, n := range notes {
		out = append(out, noteJSON{ID: n.ID, AgentID: n.AgentID, Text: n.Text, CreatedAt: n.CreatedAt})
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"notes": out})
	return nil
}
