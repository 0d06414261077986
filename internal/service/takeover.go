package service

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// TakeOver gives a conversation to an agent: agentID, or the signed-in
// agent when it is "". From a bot this is the SPEC §3 handoff (notice, the
// bot's turns cancelled, nothing more reaches the bot); from a person or
// the queue it is a reassignment with the same notice. Taking over for
// someone else is for admins and API keys.
func (s *Service) TakeOver(ctx context.Context, actor Actor, convID, agentID string) (*chat.Conversation, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if agentID == "" {
		if actor.AgentID == "" {
			return nil, chat.FieldError("agentId", "agentId is required with an API key")
		}
		agentID = actor.AgentID
	}
	if agentID != actor.AgentID {
		if err := actor.require(chat.RoleAdmin); err != nil {
			return nil, err
		}
	}
	conv, err := s.GetConversation(ctx, actor, convID)
	if err != nil {
		return nil, err
	}
	agent, err := s.appAgent(ctx, actor.AppID, "agentId", agentID)
	if err != nil {
		return nil, err
	}
	return s.giveToAgent(ctx, conv, agent)
}

// AssignInput is the input of Assign: exactly one of the three.
type AssignInput struct {
	AgentID string `json:"agentId"`
	TeamID  string `json:"teamId"`
	BotID   string `json:"botId"`
}

// Assign moves a conversation to an agent, into a team (routed among its
// people by the team's rules), or back to a bot (the explicit hand-back of
// SPEC §3). Unlike ChangeAssignee, it applies the handoff rules: notices,
// the away message when a team has nobody, and cancelling a bot's turns.
func (s *Service) Assign(ctx context.Context, actor Actor, convID string, in AssignInput) (*chat.Conversation, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	n := 0
	for _, v := range []string{in.AgentID, in.TeamID, in.BotID} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, chat.FieldError("agentId", "give exactly one of agentId, teamId or botId")
	}
	conv, err := s.GetConversation(ctx, actor, convID)
	if err != nil {
		return nil, err
	}
	switch {
	case in.AgentID != "":
		agent, err := s.appAgent(ctx, actor.AppID, "agentId", in.AgentID)
		if err != nil {
			return nil, err
		}
		return s.giveToAgent(ctx, conv, agent)
	case in.TeamID != "":
		return s.giveToTeam(ctx, conv, in.TeamID)
	default:
		return s.handBack(ctx, conv, in.BotID)
	}
}

func (s *Service) appAgent(ctx context.Context, appID, field, id string) (*chat.Agent, error) {
	if err := chat.ValidateID(field, id); err != nil {
		return nil, err
	}
	a, err := s.store.GetAgent(ctx, appID, id)
	if chat.IsCode(err, chat.CodeNotFound) {
		return nil, chat.FieldError(field, "no such agent in this app")
	}
	return a, err
}

// giveToAgent hands conv to agent: through DecideHandoff when a bot holds
// it, and as a plain reassignment with a notice otherwise.
func (s *Service) giveToAgent(ctx context.Context, conv *chat.Conversation, agent *chat.Agent) (*chat.Conversation, error) {
	appID := conv.AppID
	// Each call is its own action: a later take-over must post its own
	// notice, so the keys are fresh rather than derived.
	key := "ho:" + chat.NewID()
	if conv.Assignee != nil && conv.Assignee.Type == chat.AssigneeBot {
		cur, err := s.store.GetBot(ctx, appID, conv.Assignee.ID)
		if err != nil && !chat.IsCode(err, chat.CodeNotFound) {
			return nil, err
		}
		d, err := s.handoff(ctx, appID, conv.ID, chat.Trigger{Kind: chat.TriggerTakeOver, Target: agent.ID}, cur, key)
		if err != nil {
			return nil, err
		}
		switch {
		case !d.Skipped:
			if err := s.afterHandoff(ctx, appID, conv.ID, d); err != nil {
				return nil, err
			}
			return s.store.GetConversation(ctx, appID, conv.ID)
		case d.Reason == chat.HandoffClosed:
			return nil, chat.Errorf(chat.CodeConflict, "a %s conversation cannot be taken over: reopen it first", conv.Status)
		case d.Reason != chat.HandoffNotBotAssigned:
			return nil, chat.Errorf(chat.CodeConflict, "the conversation could not be taken over (%s)", d.Reason)
		}
		// The bot let go meanwhile: a plain reassignment does.
	}
	changed := false
	var prev *chat.Assignee
	fact := &chat.AnalyticsEvent{}
	c, err := s.updateConversation(ctx, appID, conv.ID, func(c *chat.Conversation) error {
		prev = c.Assignee
		to := chat.Assignee{Type: chat.AssigneeAgent, ID: agent.ID}
		changed = c.Assignee == nil || *c.Assignee != to
		reassignFact(fact, c, &to)
		c.Assignee = &to
		if c.Status == chat.StatusWaiting || c.Status == chat.StatusUnresponded {
			c.Status = chat.StatusOpen
		}
		return nil
	}, fact)
	if err != nil {
		return nil, err
	}
	if err := s.botLeft(ctx, appID, conv.ID, prev, c.Assignee); err != nil {
		return nil, err
	}
	if changed {
		n := *chat.AssignedNotice(agent.Name)
		n.ClientKey = key + ":notice"
		if _, _, err := s.appendMessage(ctx, appID, conv.ID, n); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// giveToTeam routes conv among teamID's people by the team's rules; from a
// bot it is the KM_ASSIGN_TEAM handoff.
func (s *Service) giveToTeam(ctx context.Context, conv *chat.Conversation, teamID string) (*chat.Conversation, error) {
	appID := conv.AppID
	if err := chat.ValidateID("teamId", teamID); err != nil {
		return nil, err
	}
	if _, err := s.store.GetTeam(ctx, appID, teamID); chat.IsCode(err, chat.CodeNotFound) {
		return nil, chat.FieldError("teamId", "no such team in this app")
	} else if err != nil {
		return nil, err
	}
	key := "ho:" + chat.NewID()
	if conv.Assignee != nil && conv.Assignee.Type == chat.AssigneeBot {
		cur, err := s.store.GetBot(ctx, appID, conv.Assignee.ID)
		if err != nil && !chat.IsCode(err, chat.CodeNotFound) {
			return nil, err
		}
		d, err := s.handoff(ctx, appID, conv.ID, chat.Trigger{Kind: chat.TriggerAssignTeam, TeamID: teamID}, cur, key)
		if err != nil {
			return nil, err
		}
		if d.Skipped {
			return nil, chat.Errorf(chat.CodeConflict, "the conversation could not be moved (%s)", d.Reason)
		}
		if err := s.afterHandoff(ctx, appID, conv.ID, d); err != nil {
			return nil, err
		}
		return s.store.GetConversation(ctx, appID, conv.ID)
	}
	if conv.Status.Closed() {
		return nil, chat.Errorf(chat.CodeConflict, "a %s conversation cannot be moved: reopen it first", conv.Status)
	}
	sc, err := s.loadScene(ctx, appID, conv.ID)
	if err != nil {
		return nil, err
	}
	before := sc.conv.Assignee
	d, err := s.commitHandoff(ctx, sc, chat.HandoffDecision{Route: true, TeamID: teamID, Status: sc.conv.Status}, key, func(c *chat.Conversation) bool {
		return sameAssignee(c.Assignee, before)
	}, nil)
	if err != nil {
		return nil, err
	}
	if d.Skipped {
		return nil, chat.Errorf(chat.CodeConflict, "the conversation changed meanwhile; try again")
	}
	return s.store.GetConversation(ctx, appID, conv.ID)
}

// handBack gives conv back to a bot (chat.HandBack). The bot hears nothing
// until the contact writes again: a greeting in the middle of a
// conversation would confuse more than help.
func (s *Service) handBack(ctx context.Context, conv *chat.Conversation, botID string) (*chat.Conversation, error) {
	appID := conv.AppID
	bots, err := s.store.ListBots(ctx, appID)
	if err != nil {
		return nil, err
	}
	hb, err := chat.HandBack(*conv, botID, bots)
	if chat.IsCode(err, chat.CodeNotFound) {
		return nil, chat.FieldError("botId", "no such bot in this app")
	}
	if err != nil {
		return nil, err
	}
	before := conv.Assignee
	c, err := s.updateConversation(ctx, appID, conv.ID, func(c *chat.Conversation) error {
		if !sameAssignee(c.Assignee, before) || c.Status.Closed() {
			return chat.Errorf(chat.CodeConflict, "the conversation changed meanwhile; try again")
		}
		a := hb.Assignee
		c.Assignee = &a
		c.Status = hb.Status
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Another bot's memory of the conversation belongs to a chat it no
	// longer has; the bot handed back keeps its own, and picks up where
	// it left off unless it was detached at the handoff.
	if err := s.store.DetachBots(ctx, appID, conv.ID, botID); err != nil {
		return nil, err
	}
	n := *hb.Notice
	n.ClientKey = "ho:" + chat.NewID() + ":notice"
	if _, _, err := s.appendMessage(ctx, appID, conv.ID, n); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "conversation handed back to a bot", "app", appID, "conversation", conv.ID, "bot", botID)
	return c, nil
}

func sameAssignee(a, b *chat.Assignee) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
