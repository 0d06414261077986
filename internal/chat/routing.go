package chat

import "sort"

// Candidate is an agent as routing sees them at one instant.
type Candidate struct {
	AgentID  string
	Presence Presence
	// Connected says the agent has a live dashboard connection. An agent
	// who set "online" and closed the laptop cannot answer, so round robin
	// needs both: the manual presence and a connection.
	Connected bool
	// OpenChats is how many open conversations the agent holds now.
	OpenChats int
	// MaxChats is the agent's own limit; 0 uses the rules' default.
	MaxChats int
}

// Available reports whether c can answer a chat now (effective presence).
func (c Candidate) Available() bool { return c.Presence == PresenceOnline && c.Connected }

// AtLimit reports whether c holds as many open chats as allowed.
func (c Candidate) AtLimit(defaultMax int) bool {
	limit := c.MaxChats
	if limit <= 0 {
		limit = defaultMax
	}
	return limit > 0 && c.OpenChats >= limit
}

// RouteInput is everything Route needs to place one new conversation.
type RouteInput struct {
	AppID string
	// Rules are the effective rules (the app's, With the team's override).
	Rules Rules
	// SkipRouting keeps Assignee as the caller gave it (SPEC §2 step 1).
	SkipRouting bool
	Assignee    *Assignee
	// HumansOnly skips bot routing: a handoff routes to people, and must
	// never send the conversation back to a bot.
	HumansOnly bool
	// Team, when set, limits candidates to its members and is recorded on
	// the decision.
	Team *Team
	// Candidates are the app's agents (or the team's) with their presence.
	Candidates []Candidate
	// Bots are the app's bots; the handle-all bot must be among them and
	// enabled to take the conversation.
	Bots []Bot
	// OutsideHours says the business hours (the team's, else the app's) are
	// closed now; the caller computes it with BusinessHours.OpenAt. The
	// zero value means open, so forgetting it never hides agents.
	OutsideHours bool
	// Cursor is the id of the agent round robin assigned last in this app
	// or team; "" starts from the first agent.
	Cursor string
	// Language is the contact's BCP-47 tag, for the away message.
	Language string
}

// RouteReason says why a conversation went where it went, for logs and analytics.
type RouteReason string

const (
	ReasonSkipRouting     RouteReason = "skip_routing"
	ReasonBotRouting      RouteReason = "bot_routing"
	ReasonNotifyEverybody RouteReason = "notify_everybody"
	ReasonRoundRobin      RouteReason = "round_robin"
	ReasonDefaultAgent    RouteReason = "default_agent" // nobody qualified; the default agent takes it
	ReasonQueued          RouteReason = "queued"        // nobody qualified; it waits (status 7)
)

// HumanTarget is where a bot-routed conversation goes on a later handoff.
// It names the team and default agent rather than a round-robin pick: a
// pick made now would use up a rotation slot for a chat the bot may well
// resolve alone, and would be stale by the time of the handoff, which
// routes afresh (HumansOnly) with the presence of that moment.
type HumanTarget struct {
	TeamID         string `json:"teamId,omitempty"`
	DefaultAgentID string `json:"defaultAgentId,omitempty"`
	Mode           Mode   `json:"mode"`
}

// RouteDecision is where a new conversation goes.
type RouteDecision struct {
	// Assignee is nil when nobody is assigned (a queue, or notify-everybody
	// with no default agent).
	Assignee *Assignee
	Status   Status
	TeamID   string
	// NotifyAll makes the conversation visible and notified to every agent
	// (of the team, when there is one).
	NotifyAll bool
	// HumanTarget is set when a bot took the conversation (SPEC §2 step 2).
	HumanTarget *HumanTarget
	// Cursor is the round-robin cursor to store; it equals the input's
	// unless round robin picked an agent.
	Cursor string
	Reason RouteReason
	// BotSkipped says bot routing was on but its bot is missing or disabled,
	// so the human rules applied; admins should hear about it.
	BotSkipped bool
	// AwayMessage is for the contact when nobody can answer soon (outside
	// business hours, or no agent online); "" otherwise.
	AwayMessage string
}

// Route places a new conversation by SPEC §2. It is pure: the same input
// gives the same decision, and it changes nothing.
//
// Round robin is race-free only if two placements never read the same
// cursor. That is the store's job, and this is how Route is meant to run:
// in one transaction, lock the cursor row of the app (or team) (SELECT …
// FOR UPDATE on PostgreSQL; SQLite's single writer does it already), read
// the cursor and the candidates' presence and open-chat counts, call Route,
// then write the conversation's assignee and the new Cursor, and commit.
// A second node blocks on the lock and then sees the first node's cursor
// and the chosen agent's incremented count, so it picks the next agent.
func Route(in RouteInput) RouteDecision {
	d := RouteDecision{Status: StatusOpen, Cursor: in.Cursor}
	if in.Team != nil {
		d.TeamID = in.Team.ID
	}
	r := in.Rules

	// Step 1: the caller decided.
	if in.SkipRouting {
		if in.Assignee != nil {
			a := *in.Assignee
			d.Assignee = &a
		}
		d.Reason = ReasonSkipRouting
		return d
	}

	// Step 2: the handle-all bot, if it can answer.
	if r.BotRouting && !in.HumansOnly {
		if b := findBot(in.Bots, in.AppID, r.HandleAllBotID); b != nil && b.Enabled {
			d.Assignee = &Assignee{Type: AssigneeBot, ID: b.ID}
			d.Reason = ReasonBotRouting
			d.HumanTarget = &HumanTarget{TeamID: d.TeamID, DefaultAgentID: r.DefaultAgentID, Mode: effectiveMode(r.Mode)}
			return d
		}
		// A disabled or deleted bot must not strand new chats: people take them.
		d.BotSkipped = true
	}

	pool := teamPool(in.Candidates, in.Team)
	anyoneOnline := false
	for _, c := range pool {
		if c.Available() {
			anyoneOnline = true
			break
		}
	}
	// Nobody can answer soon: the contact is told so, whatever happens next.
	unreachable := in.OutsideHours || !anyoneOnline
	if unreachable {
		d.AwayMessage = r.AwayMessage(in.Language)
	}

	// Step 3.
	if effectiveMode(r.Mode) == ModeNotifyEverybody {
		d.NotifyAll = true
		d.Reason = ReasonNotifyEverybody
		if unreachable && r.QueueWhenNobody {
			d.Status = StatusWaiting
			d.Reason = ReasonQueued
			return d
		}
		if r.DefaultAgentID != "" {
			d.Assignee = &Assignee{Type: AssigneeAgent, ID: r.DefaultAgentID}
		}
		return d
	}

	// Step 4. Outside business hours nobody qualifies, even agents who
	// happen to be online: the team is closed.
	if !in.OutsideHours {
		if id, ok := nextInRotation(pool, in.Cursor, r.MaxConcurrentChats); ok {
			d.Assignee = &Assignee{Type: AssigneeAgent, ID: id}
			d.Cursor = id
			d.Reason = ReasonRoundRobin
			return d
		}
	}
	// With no default agent, an unassigned open chat would be seen by
	// nobody in automatic mode, so it queues even if the app does not ask to.
	if r.QueueWhenNobody || r.DefaultAgentID == "" {
		d.Status = StatusWaiting
		d.Reason = ReasonQueued
		return d
	}
	d.Assignee = &Assignee{Type: AssigneeAgent, ID: r.DefaultAgentID}
	d.Reason = ReasonDefaultAgent
	return d
}

// effectiveMode treats an unset mode as notify-everybody, the mode in
// which a misconfiguration still shows every chat to every agent.
func effectiveMode(m Mode) Mode {
	if m == ModeAutomatic {
		return ModeAutomatic
	}
	return ModeNotifyEverybody
}

func teamPool(cs []Candidate, team *Team) []Candidate {
	if team == nil {
		return cs
	}
	members := make(map[string]bool, len(team.AgentIDs))
	for _, id := range team.AgentIDs {
		members[id] = true
	}
	out := make([]Candidate, 0, len(cs))
	for _, c := range cs {
		if members[c.AgentID] {
			out = append(out, c)
		}
	}
	return out
}

// nextInRotation picks the first qualifying agent after cursor in id order,
// wrapping round. A stable order (ids, not the order the store returned
// them in) is what makes it fair: every qualifying agent gets one chat per
// turn of the wheel, and an agent who comes back online slots in at their
// place rather than at the front. The cursor need not be a current
// candidate: an agent who left still marks a place on the wheel.
func nextInRotation(cs []Candidate, cursor string, defaultMax int) (string, bool) {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.AgentID != "" && c.Available() && !c.AtLimit(defaultMax) {
			ids = append(ids, c.AgentID)
		}
	}
	if len(ids) == 0 {
		return "", false
	}
	sort.Strings(ids)
	i := sort.SearchStrings(ids, cursor)
	for i < len(ids) && ids[i] <= cursor {
		i++
	}
	if i == len(ids) {
		i = 0
	}
	return ids[i], true
}
