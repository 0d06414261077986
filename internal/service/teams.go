package service

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// NewTeam is the input of CreateTeam.
type NewTeam struct {
	Name     string   `json:"name"`
	AgentIDs []string `json:"agentIds"`
}

// CreateTeam adds a team whose members must be agents of the same app.
func (s *Service) CreateTeam(ctx context.Context, actor Actor, in NewTeam) (*chat.Team, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := chat.ValidateName("name", in.Name, true); err != nil {
		return nil, err
	}
	if len(in.AgentIDs) > 1000 {
		return nil, chat.FieldError("agentIds", "a team may have at most 1000 agents")
	}
	seen := map[string]bool{}
	ids := make([]string, 0, len(in.AgentIDs))
	for _, id := range in.AgentIDs {
		if err := chat.ValidateID("agentIds", id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	t := &chat.Team{AppID: actor.AppID, Name: in.Name, AgentIDs: ids}
	if err := s.store.CreateTeam(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// GetTeam returns a team of the actor's app.
func (s *Service) GetTeam(ctx context.Context, actor Actor, id string) (*chat.Team, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("team")
	}
	return s.store.GetTeam(ctx, actor.AppID, id)
}

// ListTeams returns the actor's app's teams.
func (s *Service) ListTeams(ctx context.Context, actor Actor) ([]chat.Team, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	return s.store.ListTeams(ctx, actor.AppID)
}
