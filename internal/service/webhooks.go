package service

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// WebhookInput creates an endpoint (POST) or changes one (PATCH); a nil
// field is left as it is, and on creation Enabled defaults to true and a
// missing secret is generated.
type WebhookInput struct {
	URL    *string             `json:"url"`
	Events []webhook.EventType `json:"events"`
	// Secret is a Standard Webhooks signing secret, "whsec_" and base64.
	Secret *string `json:"secret"`
	// BasicAuth, "user:password", adds Kommunicate's Authentication
	// header; "" removes it.
	BasicAuth *string `json:"basicAuth"`
	Enabled   *bool   `json:"enabled"`
}

// WebhookView is an endpoint as admins see it. Secret is set only in the
// answer that created or replaced it: it is shown once, and stored sealed.
type WebhookView struct {
	webhook.Endpoint
	Secret       string `json:"secret,omitempty"`
	HasBasicAuth bool   `json:"hasBasicAuth"`
}

// CreateWebhook adds an outgoing webhook endpoint to the actor's app.
func (s *Service) CreateWebhook(ctx context.Context, actor Actor, in WebhookInput) (*WebhookView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if in.URL == nil {
		return nil, chat.FieldError("url", "url is required")
	}
	creds := webhook.Credentials{Secret: webhook.NewSecret()}
	if err := applyCredentials(&creds, in); err != nil {
		return nil, err
	}
	e := &webhook.Endpoint{ID: chat.NewID(), AppID: actor.AppID, URL: *in.URL, Events: in.Events, Enabled: true}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	}
	if err := s.sealCredentials(e, creds); err != nil {
		return nil, err
	}
	if err := s.store.CreateWebhook(ctx, e); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "webhook endpoint created", "app", actor.AppID, "webhook", e.ID)
	return &WebhookView{Endpoint: *e, Secret: creds.Secret, HasBasicAuth: creds.BasicAuth != ""}, nil
}

// applyCredentials checks and applies the secret fields of in.
func applyCredentials(c *webhook.Credentials, in WebhookInput) error {
	if in.Secret != nil {
		if _, err := webhook.SecretKey(*in.Secret); err != nil {
			return err
		}
		c.Secret = *in.Secret
	}
	if in.BasicAuth != nil {
		if err := webhook.ValidateBasicAuth(*in.BasicAuth); err != nil {
			return err
		}
		c.BasicAuth = *in.BasicAuth
	}
	return nil
}

func (s *Service) sealCredentials(e *webhook.Endpoint, c webhook.Credentials) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	e.Sealed, err = s.keys.Seal(raw, webhook.SealAD(e.AppID, e.ID))
	return err
}

// WebhookCredentials opens an endpoint's sealed credentials, for the
// delivery worker. A failure is internal: the master key changed, or the
// row was tampered with.
func (s *Service) WebhookCredentials(e *webhook.Endpoint) (webhook.Credentials, error) {
	var c webhook.Credentials
	raw, err := s.keys.Open(e.Sealed, webhook.SealAD(e.AppID, e.ID))
	if err != nil {
		return c, &chat.Error{Code: chat.CodeInternal, Message: "the webhook's secret cannot be decrypted (was the master key changed?)", Cause: err}
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, &chat.Error{Code: chat.CodeInternal, Message: "the webhook's stored secret is unreadable", Cause: err}
	}
	return c, nil
}

func (s *Service) webhookView(e *webhook.Endpoint) (*WebhookView, error) {
	c, err := s.WebhookCredentials(e)
	if err != nil {
		return nil, err
	}
	return &WebhookView{Endpoint: *e, HasBasicAuth: c.BasicAuth != ""}, nil
}

// webhookID checks a path id; a malformed one is simply not found.
func webhookID(id string) error {
	if chat.ValidateID("id", id) != nil {
		return chat.NotFound("webhook")
	}
	return nil
}

// ListWebhooks returns the app's endpoints.
func (s *Service) ListWebhooks(ctx context.Context, actor Actor) ([]WebhookView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	es, err := s.store.ListWebhooks(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	out := make([]WebhookView, 0, len(es))
	for i := range es {
		v, err := s.webhookView(&es[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// GetWebhook returns one endpoint.
func (s *Service) GetWebhook(ctx context.Context, actor Actor, id string) (*WebhookView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := webhookID(id); err != nil {
		return nil, err
	}
	e, err := s.store.GetWebhook(ctx, actor.AppID, id)
	if err != nil {
		return nil, err
	}
	return s.webhookView(e)
}

// UpdateWebhook changes an endpoint. Enabling it again after Switchboard
// disabled it starts its failure count afresh, and its waiting deliveries
// go out.
func (s *Service) UpdateWebhook(ctx context.Context, actor Actor, id string, in WebhookInput) (*WebhookView, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := webhookID(id); err != nil {
		return nil, err
	}
	var creds webhook.Credentials
	e, err := s.store.UpdateWebhook(ctx, actor.AppID, id, func(e *webhook.Endpoint) error {
		if in.URL != nil {
			e.URL = *in.URL
		}
		if in.Events != nil {
			e.Events = in.Events
		}
		if in.Enabled != nil {
			e.Enabled = *in.Enabled
		}
		if in.Secret == nil && in.BasicAuth == nil {
			return nil
		}
		c, err := s.WebhookCredentials(e)
		if err != nil {
			return err
		}
		if err := applyCredentials(&c, in); err != nil {
			return err
		}
		creds = c
		return s.sealCredentials(e, c)
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "webhook endpoint updated", "app", actor.AppID, "webhook", id, "enabled", e.Enabled)
	v, err := s.webhookView(e)
	if err != nil {
		return nil, err
	}
	if in.Secret != nil {
		v.Secret = creds.Secret
	}
	return v, nil
}

// DeleteWebhook removes an endpoint with its queue and log.
func (s *Service) DeleteWebhook(ctx context.Context, actor Actor, id string) error {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return err
	}
	if err := webhookID(id); err != nil {
		return err
	}
	return s.store.DeleteWebhook(ctx, actor.AppID, id)
}

// WebhookLog is an endpoint's recent deliveries and attempts.
type WebhookLog struct {
	Deliveries []webhook.Delivery `json:"deliveries"`
	Attempts   []webhook.Attempt  `json:"attempts"`
}

// WebhookDeliveryLog returns the endpoint's last limit deliveries and
// attempts (0 means store.DefaultPageSize), newest first.
func (s *Service) WebhookDeliveryLog(ctx context.Context, actor Actor, id string, limit int) (*WebhookLog, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := webhookID(id); err != nil {
		return nil, err
	}
	if limit < 0 || limit > store.MaxPageSize {
		return nil, chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	ds, err := s.store.ListWebhookDeliveries(ctx, actor.AppID, id, limit)
	if err != nil {
		return nil, err
	}
	as, err := s.store.ListWebhookAttempts(ctx, actor.AppID, id, limit)
	if err != nil {
		return nil, err
	}
	return &WebhookLog{Deliveries: ds, Attempts: as}, nil
}

// RedeliverWebhook sends an event to the endpoint once more, with the same
// webhook-id and body.
func (s *Service) RedeliverWebhook(ctx context.Context, actor Actor, id, eventID string) (*webhook.Delivery, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := webhookID(id); err != nil {
		return nil, err
	}
	eventID = strings.TrimSpace(eventID)
	if chat.ValidateID("eventId", eventID) != nil {
		return nil, chat.FieldError("eventId", "eventId must be the id of an event sent to this endpoint")
	}
	// The workers find it at their next poll.
	return s.store.RedeliverWebhook(ctx, actor.AppID, id, eventID)
}
