package httpapi

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

func (s *server) markRead(w http.ResponseWriter, r *http.Request) error {
	var in service.MarkReadInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	read, err := s.svc.MarkRead(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int64{"readSeq": read})
	return nil
}
