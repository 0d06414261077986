package service

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// ContactInput identifies or describes the contact of a new conversation.
type ContactInput struct {
	UserID      string          `json:"userId"`
	Name        string          `json:"name"`
	Email       string          `json:"email"`
	Language    string          `json:"language"`
	ChatContext json.RawMessage `json:"chatContext"`
}

// NewConversation is the input of StartConversation.
type NewConversation struct {
	Contact ContactInput `json:"contact"`
	// ContactID reuses an existing contact instead of Contact.
	ContactID   string         `json:"contactId"`
	TeamID      string         `json:"teamId"`
	SkipRouting bool           `json:"skipRouting"`
	Assignee    *chat.Assignee `json:"assignee"`
	Metadata    chat.Metadata  `json:"metadata"`
	// SkipBotEvent starts a bot-assigned conversation without the welcome
	// event, for a widget that greets the contact itself.
	SkipBotEvent bool `json:"skipBotEvent"`
	// CustomWelcomeEvent replaces WELCOME as the event the bot receives.
	CustomWelcomeEvent string `json:"customWelcomeEvent"`
}

// StartConversation opens a conversation for a contact, creating or
// refreshing the contact as needed.
func (s *Service) StartConversation(ctx context.Context, actor Actor, in NewConversation) (*chat.Conversation, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := in.Assignee.Validate(); err != nil {
		return nil, err
	}
	if in.TeamID != "" {
		if err := chat.ValidateID("teamId", in.TeamID); err != nil {
			return nil, err
		}
	}
	if err := in.Metadata.Validate("metadata"); err != nil {
		return nil, err
	}
	if len(in.CustomWelcomeEvent) > chat.MaxNameLen || !utf8.ValidString(in.CustomWelcomeEvent) {
		return nil, chat.FieldError("customWelcomeEvent", "customWelcomeEvent must be at most %d bytes of UTF-8", chat.MaxNameLen)
	}
	// Check what the conversation will point at before touching the
	// contact, so that a refused request leaves no contact behind. The store
	// checks again inside its transaction; this is about not half-applying.
	if err := s.checkRefs(ctx, actor.AppID, in.TeamID, in.Assignee); err != nil {
		return nil, err
	}
	var contact *chat.Contact
	var err error
	if in.ContactID != "" {
		if err := chat.ValidateID("contactId", in.ContactID); err != nil {
			return nil, err
		}
		contact, err = s.store.GetContact(ctx, actor.AppID, in.ContactID)
		if chat.IsCode(err, chat.CodeNotFound) {
			return nil, chat.FieldError("contactId", "contact not found")
		}
	} else {
		contact, err = s.ensureContact(ctx, actor.AppID, in.Contact)
	}
	if err != nil {
		return nil, err
	}
	c := &chat.Conversation{
		AppID:     actor.AppID,
		ContactID: contact.ID,
		Status:    chat.StatusOpen,
		Assignee:  in.Assignee,
		TeamID:    in.TeamID,
		Metadata:  in.Metadata,
	}
	d := chat.RouteDecision{Reason: chat.ReasonSkipRouting}
	var rin chat.RouteInput
	// An explicit assignee is the caller deciding, as skipRouting is
	// (SPEC §2 step 1): integrations that name the bot or agent they want
	// must get it, and rules only place conversations nobody placed.
	if !in.SkipRouting && in.Assignee == nil {
		if rin, err = s.startRouteInput(ctx, actor.AppID, in.TeamID, contact.Language); err != nil {
			return nil, err
		}
		// A first decision without the cursor: when it does not depend on
		// the rotation (bot routing, notify everybody) it is final, and the
		// conversation is created placed, with no lock taken.
		d = chat.Route(rin)
		c.Assignee, c.Status = d.Assignee, d.Status
		if needsRotation(d) {
			// Created unplaced, then placed under the cursor lock: the
			// lock is on the cursor, and the counts it guards must
			// include every placement before this one.
			c.Assignee, c.Status = nil, chat.StatusOpen
		}
	}
	if err := s.store.CreateConversation(ctx, c); err != nil {
		return nil, err
	}
	s.publish(ctx, bus.Event{Type: bus.TypeInbox, AppID: actor.AppID})
	if needsRotation(d) {
		placed, routed, err := s.routeLocked(ctx, c.ID, rin, func(d chat.RouteDecision, c *chat.Conversation) error {
			c.Assignee, c.Status = d.Assignee, d.Status
			return nil
		})
		if err != nil {
			// The conversation exists: a client retrying would start a
			// second one, so fail loudly but leave it for the agents.
			return nil, err
		}
		d, c = placed, routed
	}
	s.log.InfoContext(ctx, "conversation started", "app", actor.AppID, "conversation", c.ID, "contact", contact.ID,
		"route", string(d.Reason), "notify_all", d.NotifyAll, "bot_skipped", d.BotSkipped)
	if tellsAway(in, c, d, rin) {
		// Queued with agents online but all at their limit, Route gives no
		// away text; the contact must still hear that a person is coming.
		away := d.AwayMessage
		if away == "" {
			away = rin.Rules.AwayMessage(contact.Language)
		}
		if err := s.tellContact(ctx, actor.AppID, c.ID, away, "route:away"); err != nil {
			s.log.ErrorContext(ctx, "posting the away message failed", "app", actor.AppID, "conversation", c.ID, "err", err)
		}
	} else if greetsWithWelcome(in, c, rin.Rules) {
		if err := s.tellContact(ctx, actor.AppID, c.ID, rin.Rules.WelcomeMessage(contact.Language), "route:welcome"); err != nil {
			s.log.ErrorContext(ctx, "posting the welcome message failed", "app", actor.AppID, "conversation", c.ID, "err", err)
		}
	}
	if c.Assignee != nil && c.Assignee.Type == chat.AssigneeBot && !in.SkipBotEvent {
		ev := in.CustomWelcomeEvent
		if ev == "" {
			ev = bot.EventWelcome
		}
		if err := s.enqueueEvent(ctx, actor.AppID, c.ID, c.Assignee.ID, ev); err != nil {
			// The conversation exists and works; only the greeting is
			// lost, and failing the start would leave a duplicate behind
			// when the client retries.
			s.log.ErrorContext(ctx, "queueing the bot's welcome failed", "app", actor.AppID, "conversation", c.ID, "err", err)
		}
	}
	return c, nil
}

// tellsAway says whether a new conversation's contact is told the away
// message: when it queues; when the team is closed (outside business
// hours) and people, not a bot, have it; and when nobody qualified and
// the default agent took it in automatic mode, because then a person is
// named but may well be away. Not in notify-everybody mode with nobody
// connected during open hours: the conversation is in front of every agent
// as soon as one connects, and "nobody is here" on every start would be
// noise.
func tellsAway(in NewConversation, c *chat.Conversation, d chat.RouteDecision, rin chat.RouteInput) bool {
	if in.SkipRouting || in.Assignee != nil || c.Assignee != nil && c.Assignee.Type == chat.AssigneeBot {
		return false
	}
	return c.Status == chat.StatusWaiting || rin.OutsideHours || d.Reason == chat.ReasonDefaultAgent && d.AwayMessage != ""
}

// greetsWithWelcome says whether a new conversation gets the app's welcome
// text: only one the rules placed with people (a bot's greeting is the
// bot's own, and a queued contact hears the away message instead), and
// only when the app wrote a welcome, so that integrations that greet in
// their own way are not greeted twice.
func greetsWithWelcome(in NewConversation, c *chat.Conversation, r chat.Rules) bool {
	if in.SkipRouting || in.Assignee != nil || len(r.Welcome) == 0 || c.Status == chat.StatusWaiting {
		return false
	}
	return c.Assignee == nil || c.Assignee.Type == chat.AssigneeAgent
}

// startRouteInput is routeInput for a new conversation, with the app's
// agents and bots read here.
func (s *Service) startRouteInput(ctx context.Context, appID, teamID, lang string) (chat.RouteInput, error) {
	agents, err := s.store.ListAgents(ctx, appID)
	if err != nil {
		return chat.RouteInput{}, err
	}
	bots, err := s.store.ListBots(ctx, appID)
	if err != nil {
		return chat.RouteInput{}, err
	}
	return s.routeInput(ctx, appID, teamID, lang, agents, bots)
}

// checkRefs reports a team or assignee that is not in the app as invalid input.
func (s *Service) checkRefs(ctx context.Context, appID, teamID string, a *chat.Assignee) error {
	if teamID != "" {
		if _, err := s.store.GetTeam(ctx, appID, teamID); chat.IsCode(err, chat.CodeNotFound) {
			return chat.FieldError("teamId", "no such team in this app")
		} else if err != nil {
			return err
		}
	}
	if a == nil {
		return nil
	}
	var err error
	if a.Type == chat.AssigneeAgent {
		_, err = s.store.GetAgent(ctx, appID, a.ID)
	} else {
		_, err = s.store.GetBot(ctx, appID, a.ID)
	}
	if chat.IsCode(err, chat.CodeNotFound) {
		return chat.FieldError("assignee.id", "no such %s in this app", a.Type)
	}
	return err
}

// ensureContact finds an identified contact by user id (refreshing the
// details given), or creates one; a contact without user id is a new
// anonymous visitor.
func (s *Service) ensureContact(ctx context.Context, appID string, in ContactInput) (*chat.Contact, error) {
	if err := validateContactInput(&in); err != nil {
		return nil, err
	}
	if in.UserID != "" {
		existing, err := s.store.ContactByUserID(ctx, appID, in.UserID)
		switch {
		case err == nil:
			return s.store.UpdateContact(ctx, appID, existing.ID, contactRefresh(in))
		case !chat.IsCode(err, chat.CodeNotFound):
			return nil, err
		}
	}
	c := &chat.Contact{AppID: appID, UserID: in.UserID, Name: in.Name, Email: in.Email, Language: in.Language, ChatContext: in.ChatContext}
	err := s.store.CreateContact(ctx, c)
	if chat.IsCode(err, chat.CodeConflict) && in.UserID != "" {
		// Another request created the same user a moment ago: use that one.
		existing, err := s.store.ContactByUserID(ctx, appID, in.UserID)
		if err != nil {
			return nil, err
		}
		return s.store.UpdateContact(ctx, appID, existing.ID, contactRefresh(in))
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func validateContactInput(in *ContactInput) error {
	if in.UserID != "" {
		if err := chat.ValidateUserID("contact.userId", in.UserID); err != nil {
			return err
		}
	}
	if err := chat.ValidateName("contact.name", in.Name, false); err != nil {
		return err
	}
	email, err := chat.NormalizeEmail("contact.email", in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	if err := chat.ValidateLanguage(in.Language); err != nil {
		return err
	}
	if err := chat.ValidateChatContext(in.ChatContext); err != nil {
		return err
	}
	if isJSONNull(in.ChatContext) {
		in.ChatContext = nil
	}
	return nil
}

// contactRefresh updates only what the caller supplied, so starting a second
// conversation without a name does not erase the name given the first time.
func contactRefresh(in ContactInput) store.ContactUpdate {
	var u store.ContactUpdate
	if in.Name != "" {
		u.Name = &in.Name
	}
	if in.Email != "" {
		u.Email = &in.Email
	}
	if in.Language != "" {
		u.Language = &in.Language
	}
	if len(in.ChatContext) > 0 {
		u.ChatContext = in.ChatContext
	}
	return u
}

// GetConversation returns a conversation of the actor's app; a contact
// reaches only its own conversations, and any other answers not found.
func (s *Service) GetConversation(ctx context.Context, actor Actor, id string) (*chat.Conversation, error) {
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("conversation")
	}
	c, err := s.store.GetConversation(ctx, actor.AppID, id)
	if err != nil {
		return nil, err
	}
	if actor.ContactID != "" && c.ContactID != actor.ContactID {
		return nil, chat.NotFound("conversation")
	}
	return c, nil
}

// ListConversations returns a page of the actor's app's conversations.
func (s *Service) ListConversations(ctx context.Context, actor Actor, f store.ConversationFilter) (store.ConversationPage, error) {
	if err := actor.staff(); err != nil {
		return store.ConversationPage{}, err
	}
	if f.Limit < 0 || f.Limit > store.MaxPageSize {
		return store.ConversationPage{}, chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	if f.Status != nil && !f.Status.Valid() {
		return store.ConversationPage{}, chat.FieldError("status", "unknown status")
	}
	return s.store.ListConversations(ctx, actor.AppID, f)
}

// ChangeStatus moves a conversation to another status, if the move is allowed.
func (s *Service) ChangeStatus(ctx context.Context, actor Actor, id string, to chat.Status) (*chat.Conversation, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("conversation")
	}
	var byBot string
	c, err := s.updateConversation(ctx, actor.AppID, id, func(c *chat.Conversation) error {
		if err := chat.CheckTransition(c.Status, to); err != nil {
			return err
		}
		byBot = resolvedByBot(c, to)
		c.Status = to
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "conversation status changed", "app", actor.AppID, "conversation", id, "status", to.String())
	if byBot != "" {
		s.recordBotResolved(ctx, actor.AppID, id, byBot, "status")
	}
	return c, nil
}

// ChangeAssignee gives a conversation to an agent or a bot, or to nobody
// (nil). The store checks that the assignee belongs to the app.
func (s *Service) ChangeAssignee(ctx context.Context, actor Actor, id string, to *chat.Assignee) (*chat.Conversation, error) {
	if err := actor.staff(); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", id); err != nil {
		return nil, chat.NotFound("conversation")
	}
	if err := to.Validate(); err != nil {
		return nil, err
	}
	var prev *chat.Assignee
	fact := &chat.AnalyticsEvent{}
	c, err := s.updateConversation(ctx, actor.AppID, id, func(c *chat.Conversation) error {
		prev = c.Assignee
		reassignFact(fact, c, to)
		c.Assignee = to
		return nil
	}, fact)
	if err != nil {
		return nil, err
	}
	if err := s.botLeft(ctx, actor.AppID, id, prev, to); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "conversation assigned", "app", actor.AppID, "conversation", id)
	return c, nil
}

// resolvedByBot returns the bot that holds c when a change to status to
// resolves it: the conversation ends without a person ever taking it,
// which is what "bot-resolved" counts.
func resolvedByBot(c *chat.Conversation, to chat.Status) string {
	if to != chat.StatusResolved || c.Status == chat.StatusResolved || c.Assignee == nil || c.Assignee.Type != chat.AssigneeBot {
		return ""
	}
	return c.Assignee.ID
}

func isJSONNull(raw json.RawMessage) bool {
	return len(raw) == 4 && string(raw) == "null"
}

// updateConversation is the one path every conversation change takes: the
// store applies fn, and when the change is one the inbox shows (the store
// then appended an inbox event, by the same rule) the app's inbox
// subscribers, and the conversation's, are woken. facts are analytics
// events the decision filled in, stored in the change's own transaction.
func (s *Service) updateConversation(ctx context.Context, appID, id string, fn func(*chat.Conversation) error, facts ...*chat.AnalyticsEvent) (*chat.Conversation, error) {
	var before chat.Conversation
	c, err := s.store.UpdateConversation(ctx, appID, id, func(c *chat.Conversation) error {
		before = *c
		before.Metadata = c.Metadata.Clone()
		if c.Assignee != nil {
			a := *c.Assignee
			before.Assignee = &a
		}
		return fn(c)
	}, facts...)
	if err != nil {
		return nil, err
	}
	if _, ok := chat.InboxKindFor(&before, c); ok {
		// The conversation id lets the contact's connections hear of a
		// status or assignee change too (the widget's resolved banner).
		s.publish(ctx, bus.Event{Type: bus.TypeInbox, AppID: appID, ConversationID: c.ID})
	}
	if c.Status == chat.StatusResolved && before.Status != chat.StatusResolved {
		s.recordResolved(ctx, c)
	}
	return c, nil
}
