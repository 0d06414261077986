package httpapi

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// The webhook endpoints' wire shapes are the service's: WebhookView shows
// the secret only in the answer that set it, and the log is already
// admin-safe (response excerpts, no credentials).

func (s *server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.WebhookInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.svc.CreateWebhook(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.svc.ListWebhooks(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"webhooks": vs})
	return nil
}

func (s *server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GetWebhook(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var in service.WebhookInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.svc.UpdateWebhook(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteWebhook(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r.URL.Query(), "limit", 0)
	if err != nil {
		return err
	}
	log, err := s.svc.WebhookDeliveryLog(r.Context(), actorOf(r), r.PathValue("id"), int(min(limit, 1<<20)))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, log)
	return nil
}

type redeliverRequest struct {
	EventID string `json:"eventId"`
}

func (s *server) redeliverWebhook(w http.ResponseWriter, r *http.Request) error {
	var in redeliverRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := s.svc.RedeliverWebhook(r.Context(), actorOf(r), r.PathValue("id"), in.EventID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, d)
	return nil
}
