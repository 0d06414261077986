package httpapi

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
)

// cannedReplyRequest is what an admin writes; the rest of a canned reply
// is the server's.
type cannedReplyRequest struct {
	Shortcut string `json:"shortcut"`
	Text     string `json:"text"`
}

func (s *server) listCannedReplies(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.ListCannedReplies(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"cannedReplies": list})
	return nil
}

func (s *server) createCannedReply(w http.ResponseWriter, r *http.Request) error {
	var in cannedReplyRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.CreateCannedReply(r.Context(), actorOf(r), chat.CannedReply{Shortcut: in.Shortcut, Text: in.Text})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (s *server) updateCannedReply(w http.ResponseWriter, r *http.Request) error {
	var in cannedReplyRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.UpdateCannedReply(r.Context(), actorOf(r), r.PathValue("id"), chat.CannedReply{Shortcut: in.Shortcut, Text: in.Text})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (s *server) deleteCannedReply(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteCannedReply(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
