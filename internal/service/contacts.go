package service

import (
	"context"
	"encoding/json"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// ContactPatch changes the fields that are present. ChatContext is merged
// key by key into the existing context (a null value removes a key), the way
// the widget's updateChatContext works.
type ContactPatch struct {
	Name        *string         `json:"name"`
	Email       *string         `json:"email"`
	Language    *string         `json:"language"`
	ChatContext json.RawMessage `json:"chatContext"`
}

// GetContact returns a contact of the actor's app.
func (s *Service) GetContact(ctx context.Context, actor Actor, id string) (*chat.Contact, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("contact")
	}
	return s.store.GetContact(ctx, actor.AppID, id)
}

// ContactByUserID finds an identified contact of the actor's app.
func (s *Service) ContactByUserID(ctx context.Context, actor Actor, userID string) (*chat.Contact, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateUserID("userId", userID); err != nil {
		return nil, chat.NotFound("contact")
	}
	return s.store.ContactByUserID(ctx, actor.AppID, userID)
}

// UpdateContact applies a patch to a contact.
func (s *Service) UpdateContact(ctx context.Context, actor Actor, id string, p ContactPatch) (*chat.Contact, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("contact")
	}
	var u store.ContactUpdate
	if p.Name != nil {
		if err := chat.ValidateName("name", *p.Name, false); err != nil {
			return nil, err
		}
		u.Name = p.Name
	}
	if p.Email != nil {
		email, err := chat.NormalizeEmail("email", *p.Email)
		if err != nil {
			return nil, err
		}
		u.Email = &email
	}
	if p.Language != nil {
		if err := chat.ValidateLanguage(*p.Language); err != nil {
			return nil, err
		}
		u.Language = p.Language
	}
	if len(p.ChatContext) > 0 && !isJSONNull(p.ChatContext) {
		if err := chat.ValidateChatContext(p.ChatContext); err != nil {
			return nil, err
		}
		current, err := s.store.GetContact(ctx, actor.AppID, id)
		if err != nil {
			return nil, err
		}
		merged, err := mergeContext(current.ChatContext, p.ChatContext)
		if err != nil {
			return nil, err
		}
		u.ChatContext = merged
	}
	return s.store.UpdateContact(ctx, actor.AppID, id, u)
}

// mergeContext overlays patch's top-level keys on base; null deletes a key.
func mergeContext(base, patch json.RawMessage) (json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(base) > 0 && !isJSONNull(base) {
		if err := json.Unmarshal(base, &out); err != nil {
			out = map[string]json.RawMessage{}
		}
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, chat.FieldError("chatContext", "chatContext must be a JSON object")
	}
	for k, v := range p {
		if isJSONNull(v) {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	merged, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if err := chat.ValidateChatContext(merged); err != nil {
		return nil, err
	}
	return merged, nil
}
