package service

import (
	"context"
	"encoding/json"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// NewAgent is the input of CreateAgent.
type NewAgent struct {
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Password string    `json:"password"`
	Role     chat.Role `json:"role"`
}

// CreateAgent adds a dashboard user to the actor's app. Admins create agents
// and admins; only an owner creates another owner.
func (s *Service) CreateAgent(ctx context.Context, actor Actor, in NewAgent) (*chat.Agent, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = chat.RoleAgent
	}
	if !in.Role.Valid() {
		return nil, chat.FieldError("role", "role must be owner, admin or agent")
	}
	if in.Role == chat.RoleOwner {
		if err := actor.require(chat.RoleOwner); err != nil {
			return nil, err
		}
	}
	return s.createAgent(ctx, actor.AppID, in)
}

func (s *Service) createAgent(ctx context.Context, appID string, in NewAgent) (*chat.Agent, error) {
	a, err := s.newAgent(appID, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateAgent(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// newAgent checks a new agent's details and hashes the password, for
// CreateAgent and for an accepted invitation.
func (s *Service) newAgent(appID string, in NewAgent) (*chat.Agent, error) {
	email, err := chat.NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if email == "" {
		return nil, chat.FieldError("email", "email is required")
	}
	if err := chat.ValidateName("name", in.Name, true); err != nil {
		return nil, err
	}
	if err := chat.ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(s.passwords, in.Password)
	if err != nil {
		return nil, err
	}
	return &chat.Agent{AppID: appID, Email: email, Name: in.Name, Role: in.Role, Presence: chat.PresenceOffline, PasswordHash: hash}, nil
}

// GetAgent returns an agent of the actor's app.
func (s *Service) GetAgent(ctx context.Context, actor Actor, id string) (*chat.Agent, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("agent")
	}
	return s.store.GetAgent(ctx, actor.AppID, id)
}

// ListAgents returns the actor's app's agents.
func (s *Service) ListAgents(ctx context.Context, actor Actor) ([]chat.Agent, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	return s.store.ListAgents(ctx, actor.AppID)
}

// SetPresence changes an agent's presence. Agents set their own; admins and
// integrations may set anyone's (for example from a workforce tool).
func (s *Service) SetPresence(ctx context.Context, actor Actor, agentID string, p chat.Presence) (*chat.Agent, error) {
	if !p.Valid() {
		return nil, chat.FieldError("status", "presence must be online, away or offline")
	}
	if agentID != actor.AgentID {
		if err := actor.require(chat.RoleAdmin); err != nil {
			return nil, err
		}
	}
	if err := chat.ValidateID("id", agentID); err != nil {
		return nil, chat.NotFound("agent")
	}
	a, err := s.store.SetAgentPresence(ctx, actor.AppID, agentID, p)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(presenceData{AgentID: a.ID, Status: a.Presence}) // two strings always marshal
	s.publish(ctx, bus.Event{Type: bus.TypePresence, AppID: actor.AppID, Data: data})
	return a, nil
}

// presenceData is the Data of a presence event published by SetPresence.
type presenceData struct {
	AgentID string        `json:"agentId"`
	Status  chat.Presence `json:"status"`
}

// ChangePassword lets a signed-in agent replace their password.
func (s *Service) ChangePassword(ctx context.Context, actor Actor, current, next string) error {
	if actor.AgentID == "" {
		return chat.Errorf(chat.CodeForbidden, "only a signed-in agent can change a password")
	}
	a, err := s.store.GetAgent(ctx, actor.AppID, actor.AgentID)
	if err != nil {
		return err
	}
	ok, err := auth.VerifyPassword(a.PasswordHash, current)
	if err != nil || !ok {
		return chat.FieldError("currentPassword", "the current password is wrong")
	}
	if err := chat.ValidatePassword(next); err != nil {
		return err
	}
	hash, err := auth.HashPassword(s.passwords, next)
	if err != nil {
		return err
	}
	return s.store.SetAgentPassword(ctx, actor.AppID, actor.AgentID, hash)
}
