package chat

import (
	"sort"
	"strings"
)

// TriggerKind is what asks for a handoff (SPEC §3).
type TriggerKind string

const (
	TriggerAssignTo     TriggerKind = "km_assign_to"   // the bot's reply carried KM_ASSIGN_TO
	TriggerAssignTeam   TriggerKind = "km_assign_team" // the bot's reply carried KM_ASSIGN_TEAM
	TriggerBotGaveUp    TriggerKind = "bot_gave_up"
	TriggerBotFailed    TriggerKind = "bot_failed" // an error, a timeout or broken credentials
	TriggerContactAsked TriggerKind = "contact_asked"
	TriggerTakeOver     TriggerKind = "take_over"
)

// Metadata keys for a bot-to-bot handoff's event. SPEC names "event";
// Kommunicate's bots send KM_TRIGGER_EVENT, and both must keep working.
const (
	MetaEvent        = "event"
	MetaTriggerEvent = "KM_TRIGGER_EVENT"
)

// Trigger is one request for a handoff.
type Trigger struct {
	Kind TriggerKind
	// Target is KM_ASSIGN_TO's value (an agent id or email, a bot id, or ""
	// for "apply the routing rules"), or the agent taking over.
	Target string
	// TeamID is KM_ASSIGN_TEAM's value; with a KM_ASSIGN_TO target it also
	// moves the conversation to that team.
	TeamID string
	// Event is what a bot-to-bot handoff passes to the new bot instead of
	// a cold start.
	Event string
	// Intent is the bot's understanding of the turn that asked for the
	// handoff, recorded with it so admins see which intents hand off most.
	Intent string
}

// HandoffTrigger reads a bot reply's metadata. A named KM_ASSIGN_TO target
// wins over KM_ASSIGN_TEAM (it is more specific); KM_ASSIGN_TEAM wins over
// an empty KM_ASSIGN_TO. A key that is present but empty still asks for a
// handoff: a bot that sets it wants a person, and ignoring it would leave
// the contact with a bot that has stopped helping.
func HandoffTrigger(meta Metadata) (Trigger, bool) {
	to, hasTo := metaValue(meta, MetaAssignTo)
	team, hasTeam := metaValue(meta, MetaAssignTeam)
	if !hasTo && !hasTeam {
		return Trigger{}, false
	}
	event, ok := metaValue(meta, MetaEvent)
	if !ok || event == "" {
		event, _ = metaValue(meta, MetaTriggerEvent)
	}
	switch {
	case to != "":
		return Trigger{Kind: TriggerAssignTo, Target: to, TeamID: team, Event: event}, true
	case team != "":
		return Trigger{Kind: TriggerAssignTeam, TeamID: team}, true
	}
	return Trigger{Kind: TriggerAssignTo}, true
}

// metaValue finds key, tolerating the stray spaces hand-written bot payloads
// carry around keys and values. The exact key wins; otherwise the first
// matching key in sorted order, so the answer never depends on map order.
func metaValue(meta Metadata, key string) (string, bool) {
	if v, ok := meta[key]; ok {
		return strings.TrimSpace(v), true
	}
	var keys []string
	for k := range meta {
		if strings.TrimSpace(k) == key {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	sort.Strings(keys)
	return strings.TrimSpace(meta[keys[0]]), true
}

// HandoffInput is everything DecideHandoff needs.
type HandoffInput struct {
	Conversation Conversation
	Trigger      Trigger
	// Rules are the effective rules of the conversation's team (or app).
	Rules Rules
	// AutoHandoff is the current bot's setting; it governs give-ups and failures.
	AutoHandoff bool
	// The app's agents, bots and teams, to resolve ids, emails and names.
	Agents []Agent
	Bots   []Bot
	Teams  []Team
	// Language is the contact's BCP-47 tag, for texts shown to them.
	Language string
}

// HandoffReason says why a handoff happened or was skipped, for logs and analytics.
type HandoffReason string

const (
	// Handed off: the reason is the trigger.
	HandoffAssignTo     = HandoffReason(TriggerAssignTo)
	HandoffAssignTeam   = HandoffReason(TriggerAssignTeam)
	HandoffBotGaveUp    = HandoffReason(TriggerBotGaveUp)
	HandoffBotFailed    = HandoffReason(TriggerBotFailed)
	HandoffContactAsked = HandoffReason(TriggerContactAsked)
	HandoffTakeOver     = HandoffReason(TriggerTakeOver)

	// Skipped.
	HandoffNotBotAssigned HandoffReason = "not_bot_assigned" // SPEC §3: only while a bot is the assignee
	HandoffClosed         HandoffReason = "conversation_closed"
	HandoffAutoOff        HandoffReason = "auto_handoff_off" // the contact gets BotFallbackMessage instead
	HandoffSameBot        HandoffReason = "same_bot"
	HandoffUnknownAgent   HandoffReason = "unknown_agent" // take over by an id that is not an agent of the app
	HandoffUnknownTrigger HandoffReason = "unknown_trigger"
)

// Fallback says why a named target was not used and routing applied instead.
type Fallback string

const (
	FallbackUnknownAssignee Fallback = "unknown_assignee"    // KM_ASSIGN_TO names nobody of the app
	FallbackBotDisabled     Fallback = "target_bot_disabled" // KM_ASSIGN_TO names a disabled bot
	FallbackUnknownTeam     Fallback = "unknown_team"        // KM_ASSIGN_TEAM names no team of the app
)

// HandoffDecision is what to do about one trigger.
type HandoffDecision struct {
	// Skipped means nothing changes; Reason says why, for the log.
	// ContactMessage may still be set (a give-up with auto-handoff off).
	Skipped bool
	Reason  HandoffReason
	// Fallback is set when the trigger named a target that could not be
	// used, so the rules route instead.
	Fallback  Fallback
	FromBotID string
	// Assignee is the new assignee when the trigger names one, or once
	// Routed has run; nil with Route set means "not decided yet".
	Assignee *Assignee
	// Route asks the caller to run Route with HumansOnly over TeamID's
	// candidates (the app's when TeamID is ""), then call Routed.
	Route  bool
	TeamID string
	// BotEvent goes to the new bot of a bot-to-bot handoff.
	BotEvent string
	// RemoveBot detaches FromBotID from the conversation (RemoveBotOnHandoff).
	RemoveBot bool
	Status    Status
	NotifyAll bool
	// Notice is the system notice to post ("Assigned to <name>"), marked skipBot.
	Notice *NewMessage
	// ContactMessage is for the contact: the away message when nobody can
	// take the conversation, or the polite reply when no human was asked.
	ContactMessage string
	// RouteReason is routing's reason once Routed has run.
	RouteReason RouteReason

	away string
}

// DecideHandoff applies SPEC §3 to one trigger. It is pure; when the
// answer depends on who is online, it says Route and the caller finishes
// with Route and Routed inside the same transaction (see Route).
func DecideHandoff(in HandoffInput) HandoffDecision {
	conv := in.Conversation
	t := in.Trigger
	d := HandoffDecision{Status: conv.Status, away: in.Rules.AwayMessage(in.Language)}
	if conv.Assignee == nil || conv.Assignee.Type != AssigneeBot {
		return skipped(d, HandoffNotBotAssigned)
	}
	d.FromBotID = conv.Assignee.ID
	if conv.Status.Closed() {
		return skipped(d, HandoffClosed)
	}
	d.Reason = HandoffReason(t.Kind)
	d.RemoveBot = in.Rules.RemoveBotOnHandoff

	switch t.Kind {
	case TriggerBotGaveUp, TriggerBotFailed:
		if !in.AutoHandoff {
			d = skipped(d, HandoffAutoOff)
			d.ContactMessage = in.Rules.BotFallbackMessage(in.Language)
			return d
		}
		return routeIn(d, conv.TeamID)

	case TriggerContactAsked:
		return routeIn(d, conv.TeamID)

	case TriggerTakeOver:
		a := findAgent(in.Agents, conv.AppID, strings.TrimSpace(t.Target))
		if a == nil {
			return skipped(d, HandoffUnknownAgent)
		}
		return toAgent(d, a, conv.TeamID)

	case TriggerAssignTeam:
		if findTeam(in.Teams, conv.AppID, t.TeamID) == nil {
			d.Fallback = FallbackUnknownTeam
			return routeIn(d, conv.TeamID)
		}
		return routeIn(d, t.TeamID)

	case TriggerAssignTo:
		teamID := conv.TeamID
		if t.TeamID != "" {
			if findTeam(in.Teams, conv.AppID, t.TeamID) != nil {
				teamID = t.TeamID
			} else {
				d.Fallback = FallbackUnknownTeam
			}
		}
		target := strings.TrimSpace(t.Target)
		if target == "" {
			return routeIn(d, teamID)
		}
		if a := findAgentByIDOrEmail(in.Agents, conv.AppID, target); a != nil {
			return toAgent(d, a, teamID)
		}
		if b := findBot(in.Bots, conv.AppID, target); b != nil {
			switch {
			case b.ID == d.FromBotID:
				return skipped(d, HandoffSameBot)
			case !b.Enabled:
				d.Fallback = FallbackBotDisabled
				return routeIn(d, teamID)
			}
			d.Assignee = &Assignee{Type: AssigneeBot, ID: b.ID}
			d.BotEvent = t.Event
			d.TeamID = teamID
			d.Status = reopened(d.Status)
			d.Notice = AssignedNotice(b.Name)
			return d
		}
		d.Fallback = FallbackUnknownAssignee
		return routeIn(d, teamID)
	}
	return skipped(d, HandoffUnknownTrigger)
}

// Routed finishes a decision that asked to Route, with r from Route run
// with HumansOnly. It never puts the conversation back with a bot: a bot
// answer here is a caller's bug, and the conversation queues instead.
func (d HandoffDecision) Routed(r RouteDecision, agents []Agent) HandoffDecision {
	if !d.Route {
		return d
	}
	d.Route = false
	d.RouteReason = r.Reason
	d.NotifyAll = r.NotifyAll
	d.Status = r.Status
	d.ContactMessage = r.AwayMessage
	if r.Assignee != nil && r.Assignee.Type == AssigneeAgent {
		a := *r.Assignee
		d.Assignee = &a
		d.Notice = AssignedNotice(agentDisplayName(agents, a.ID))
		return d
	}
	d.Assignee = nil
	if !d.NotifyAll {
		d.Status = StatusWaiting
	}
	// Queued: the contact must hear that a person is coming, even when
	// agents are online but all at their limit.
	if d.Status == StatusWaiting && d.ContactMessage == "" {
		d.ContactMessage = d.away
	}
	d.Notice = WaitingNotice()
	return d
}

func skipped(d HandoffDecision, why HandoffReason) HandoffDecision {
	d.Skipped = true
	d.Reason = why
	d.RemoveBot = false
	return d
}

func routeIn(d HandoffDecision, teamID string) HandoffDecision {
	d.Route = true
	d.TeamID = teamID
	return d
}

func toAgent(d HandoffDecision, a *Agent, teamID string) HandoffDecision {
	d.Assignee = &Assignee{Type: AssigneeAgent, ID: a.ID}
	d.TeamID = teamID
	d.Status = reopened(d.Status)
	d.Notice = AssignedNotice(displayName(a))
	return d
}

// reopened takes a conversation out of the queue once someone has it.
func reopened(s Status) Status {
	if s == StatusWaiting || s == StatusUnresponded {
		return StatusOpen
	}
	return s
}

func findTeam(teams []Team, appID, id string) *Team {
	for i := range teams {
		if teams[i].ID == id && teams[i].AppID == appID {
			return &teams[i]
		}
	}
	return nil
}

func findAgentByIDOrEmail(agents []Agent, appID, target string) *Agent {
	if strings.Contains(target, "@") {
		for i := range agents {
			if agents[i].AppID == appID && agents[i].Email != "" && strings.EqualFold(agents[i].Email, target) {
				return &agents[i]
			}
		}
		return nil
	}
	return findAgent(agents, appID, target)
}

// displayName is what the contact sees. The email is never shown: it is
// the agent's, not the contact's, to give out.
func displayName(a *Agent) string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return n
	}
	return "an agent"
}

func agentDisplayName(agents []Agent, id string) string {
	for i := range agents {
		if agents[i].ID == id {
			return displayName(&agents[i])
		}
	}
	return "an agent"
}

// AssignedNotice is the system notice of SPEC §3, marked skipBot so that no
// bot ever receives it.
func AssignedNotice(name string) *NewMessage {
	if strings.TrimSpace(name) == "" {
		name = "an agent"
	}
	return systemNotice("Assigned to " + name)
}

// WaitingNotice is posted when a handoff found nobody to take the conversation yet.
func WaitingNotice() *NewMessage {
	return systemNotice("Waiting for an agent")
}

func systemNotice(text string) *NewMessage {
	return &NewMessage{
		Sender:      Sender{Type: SenderSystem},
		Text:        text,
		ContentType: ContentSystem,
		Metadata:    Metadata{MetaSkipBot: "true"},
	}
}

// HandBackDecision is the result of a hand-back to a bot.
type HandBackDecision struct {
	Assignee Assignee
	Status   Status
	Notice   *NewMessage
}

// HandBack checks an agent's explicit hand-back of conv to the bot botID
// (SPEC §3): only to an enabled bot of the conversation's app, and only
// from a conversation held by an agent or by nobody. A closed conversation
// must be reopened first, so a hand-back never revives a finished chat.
func HandBack(conv Conversation, botID string, bots []Bot) (HandBackDecision, error) {
	if err := ValidateID("botId", botID); err != nil {
		return HandBackDecision{}, err
	}
	if conv.Status.Closed() {
		return HandBackDecision{}, Errorf(CodeConflict, "a %s conversation cannot be handed to a bot: reopen it first", conv.Status).
			WithDetail("status", conv.Status.String())
	}
	if conv.Assignee != nil && conv.Assignee.Type == AssigneeBot {
		return HandBackDecision{}, Errorf(CodeConflict, "the conversation is already with a bot")
	}
	b := findBot(bots, conv.AppID, botID)
	if b == nil {
		return HandBackDecision{}, NotFound("bot")
	}
	if !b.Enabled {
		return HandBackDecision{}, Errorf(CodeConflict, "the bot %s is disabled", b.Name).WithDetail("botId", b.ID)
	}
	return HandBackDecision{
		Assignee: Assignee{Type: AssigneeBot, ID: b.ID},
		Status:   reopened(conv.Status),
		Notice:   AssignedNotice(b.Name),
	}, nil
}

// BotRecipient says which bot, if any, must receive m: the bot assigned to
// conv, and only for a contact's message that is not marked skipBot. After
// a handoff the assignee is a person (or nobody), so no bot receives
// anything until a hand-back makes a bot the assignee again.
func BotRecipient(conv *Conversation, m *Message) (botID string, ok bool) {
	if conv == nil || m == nil || conv.Assignee == nil || conv.Assignee.Type != AssigneeBot || conv.Status.Closed() {
		return "", false
	}
	if m.Sender.Type != SenderContact || strings.EqualFold(strings.TrimSpace(m.Metadata[MetaSkipBot]), "true") {
		return "", false
	}
	return conv.Assignee.ID, true
}
