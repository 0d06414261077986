package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store"
)

func (s *server) createConversation(w http.ResponseWriter, r *http.Request) error {
	var in service.NewConversation
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.StartConversation(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toConversation(c))
	return nil
}

func (s *server) getConversation(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.GetConversation(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}

type conversationPageJSON struct {
	Conversations []conversationJSON `json:"conversations"`
	// NextCursor is null on the last page.
	NextCursor *string `json:"nextCursor"`
}

func (s *server) listConversations(w http.ResponseWriter, r *http.Request) error {
	f, err := conversationFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.svc.ListConversations(r.Context(), actorOf(r), f)
	if err != nil {
		return err
	}
	out := conversationPageJSON{Conversations: make([]conversationJSON, 0, len(page.Conversations))}
	for i := range page.Conversations {
		out.Conversations = append(out.Conversations, toConversation(&page.Conversations[i]))
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// conversationFilter reads the list's query parameters. assignee takes
// "none" (unassigned), "bot" or "agent" (any of that kind), or
// "bot:<id>" / "agent:<id>" (that one).
func conversationFilter(q url.Values) (store.ConversationFilter, error) {
	var f store.ConversationFilter
	if v := q.Get("status"); v != "" {
		st, err := chat.ParseStatus(v)
		if err != nil {
			return f, err
		}
		f.Status = &st
	}
	if v := q.Get("assignee"); v != "" {
		kind, id, hasID := strings.Cut(v, ":")
		switch {
		case v == "none":
			f.Unassigned = true
		case kind == string(chat.AssigneeBot) || kind == string(chat.AssigneeAgent):
			f.AssigneeType = chat.AssigneeType(kind)
			if hasID {
				if err := chat.ValidateID("assignee", id); err != nil {
					return f, err
				}
				f.AssigneeID = id
			}
		default:
			return f, chat.FieldError("assignee", `assignee must be none, bot, agent, bot:<id> or agent:<id>`)
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"teamId", &f.TeamID}, {"contactId", &f.ContactID}} {
		if v := q.Get(p.name); v != "" {
			if err := chat.ValidateID(p.name, v); err != nil {
				return f, err
			}
			*p.dst = v
		}
	}
	f.Cursor = q.Get("cursor")
	limit, err := intParam(q, "limit", 0)
	if err != nil {
		return f, err
	}
	f.Limit = int(limit)
	return f, nil
}

// intParam reads an optional non-negative integer query parameter.
func intParam(q url.Values, name string, def int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, chat.FieldError(name, "%s must be a whole number, 0 or more", name)
	}
	return n, nil
}

type statusRequest struct {
	Status *chat.Status `json:"status"`
}

func (s *server) changeStatus(w http.ResponseWriter, r *http.Request) error {
	var in statusRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Status == nil {
		return chat.FieldError("status", "status is required")
	}
	c, err := s.svc.ChangeStatus(r.Context(), actorOf(r), r.PathValue("id"), *in.Status)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}

// assigneeField tells a missing assignee (a mistake) from an explicit null
// (unassign), which a plain pointer cannot.
type assigneeField struct {
	set   bool
	value *chat.Assignee
}

func (a *assigneeField) UnmarshalJSON(b []byte) error {
	a.set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a.value); err != nil {
		return chat.FieldError("assignee", `assignee must be null or {"type":"bot"|"agent","id":"…"}`)
	}
	return nil
}

type assigneeRequest struct {
	Assignee assigneeField `json:"assignee"`
}

func (s *server) changeAssignee(w http.ResponseWriter, r *http.Request) error {
	var in assigneeRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if !in.Assignee.set {
		return chat.FieldError("assignee", "assignee is required: an object, or null to unassign")
	}
	c, err := s.svc.ChangeAssignee(r.Context(), actorOf(r), r.PathValue("id"), in.Assignee.value)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}

// takeOverRequest names the agent taking over; empty means the caller.
type takeOverRequest struct {
	AgentID string `json:"agentId"`
}

func (s *server) takeOver(w http.ResponseWriter, r *http.Request) error {
	var in takeOverRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.TakeOver(r.Context(), actorOf(r), r.PathValue("id"), in.AgentID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}

func (s *server) assign(w http.ResponseWriter, r *http.Request) error {
	var in service.AssignInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.Assign(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversation(c))
	return nil
}

func (s *server) listMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := intParam(q, "afterSeq", 0)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 0)
	if err != nil {
		return err
	}
	if limit > store.MaxPageSize {
		// Checked here too: the service takes an int, and a huge value
		// must not wrap around on its way there.
		return chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	// beforeSeq pages backwards from the latest messages (the widget's
	// history); afterSeq pages forwards (a resume).
	var msgs []chat.Message
	switch {
	case !q.Has("beforeSeq"):
		msgs, err = s.svc.ListMessages(r.Context(), actorOf(r), r.PathValue("id"), after, int(limit))
	case q.Has("afterSeq"):
		return chat.FieldError("beforeSeq", "send afterSeq or beforeSeq, not both")
	default:
		var before int64
		if before, err = intParam(q, "beforeSeq", 0); err != nil {
			return err
		}
		msgs, err = s.svc.ListMessagesBefore(r.Context(), actorOf(r), r.PathValue("id"), before, int(limit))
	}
	if err != nil {
		return err
	}
	out := make([]messageJSON, 0, len(msgs))
	for i := range msgs {
		out = append(out, s.toMessage(&msgs[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"messages": out})
	return nil
}

// sendMessage answers 201 for a new message and 200 with the original when
// the clientKey was used before, so a client retrying after a lost answer
// can tell the two apart but needs to handle neither specially.
func (s *server) sendMessage(w http.ResponseWriter, r *http.Request) error {
	var in service.SendInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	m, created, err := s.svc.SendMessage(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, s.toMessage(m))
	return nil
}
