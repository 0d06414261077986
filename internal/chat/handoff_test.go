package chat

import (
	"strings"
	"testing"
)

func TestHandoffTrigger(t *testing.T) {
	cases := []struct {
		name string
		meta Metadata
		want Trigger
		ok   bool
	}{
		{"no metadata", nil, Trigger{}, false},
		{"unrelated keys", Metadata{"templateId": "6"}, Trigger{}, false},
		{"KM_ASSIGN_TO empty means routing", Metadata{MetaAssignTo: ""}, Trigger{Kind: TriggerAssignTo}, true},
		{"KM_ASSIGN_TO blank means routing", Metadata{MetaAssignTo: "  \t"}, Trigger{Kind: TriggerAssignTo}, true},
		{"agent id", Metadata{MetaAssignTo: "a1"}, Trigger{Kind: TriggerAssignTo, Target: "a1"}, true},
		{"agent email, trimmed", Metadata{MetaAssignTo: " alice@example.com\n"}, Trigger{Kind: TriggerAssignTo, Target: "alice@example.com"}, true},
		{"bot id with event", Metadata{MetaAssignTo: "b2", MetaEvent: " order_status "}, Trigger{Kind: TriggerAssignTo, Target: "b2", Event: "order_status"}, true},
		{"bot id with Kommunicate's event key", Metadata{MetaAssignTo: "b2", MetaTriggerEvent: "welcome_2"}, Trigger{Kind: TriggerAssignTo, Target: "b2", Event: "welcome_2"}, true},
		{"SPEC's event wins over KM_TRIGGER_EVENT", Metadata{MetaAssignTo: "b2", MetaEvent: "e1", MetaTriggerEvent: "e2"}, Trigger{Kind: TriggerAssignTo, Target: "b2", Event: "e1"}, true},
		{"team", Metadata{MetaAssignTeam: " t1 "}, Trigger{Kind: TriggerAssignTeam, TeamID: "t1"}, true},
		{"team beats an empty KM_ASSIGN_TO", Metadata{MetaAssignTo: "", MetaAssignTeam: "t1"}, Trigger{Kind: TriggerAssignTeam, TeamID: "t1"}, true},
		{"a named target beats the team, which rides along", Metadata{MetaAssignTo: "a2", MetaAssignTeam: "t1"}, Trigger{Kind: TriggerAssignTo, Target: "a2", TeamID: "t1"}, true},
		{"empty team still asks for a person", Metadata{MetaAssignTeam: ""}, Trigger{Kind: TriggerAssignTo}, true},
		{"key with stray spaces", Metadata{" KM_ASSIGN_TO ": "a1"}, Trigger{Kind: TriggerAssignTo, Target: "a1"}, true},
		{"exact key beats a spaced one", Metadata{"KM_ASSIGN_TO ": "a2", MetaAssignTo: "a1"}, Trigger{Kind: TriggerAssignTo, Target: "a1"}, true},
		{"key case matters (Kommunicate's keys are upper case)", Metadata{"km_assign_to": "a1"}, Trigger{}, false},
	}
	for _, c := range cases {
		got, ok := HandoffTrigger(c.meta)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: HandoffTrigger(%v) = %+v, %v; want %+v, %v", c.name, c.meta, got, ok, c.want, c.ok)
		}
	}
}

func FuzzHandoffTrigger(f *testing.F) {
	f.Add("KM_ASSIGN_TO", "a1", "KM_ASSIGN_TEAM", "t1", "event", "e")
	f.Add(" KM_ASSIGN_TO", " ", "x", "y", "KM_TRIGGER_EVENT", "w")
	f.Add("KM_ASSIGN_TEAM", "", "KM_ASSIGN_TO ", "bob@example.com", "", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		meta := Metadata{k1: v1, k2: v2, k3: v3}
		got, ok := HandoffTrigger(meta)
		again, ok2 := HandoffTrigger(meta.Clone())
		if got != again || ok != ok2 {
			t.Fatalf("not deterministic: %+v/%v vs %+v/%v", got, ok, again, ok2)
		}
		has := false
		for k := range meta {
			if s := strings.TrimSpace(k); s == MetaAssignTo || s == MetaAssignTeam {
				has = true
			}
		}
		if ok != has {
			t.Fatalf("ok = %v, but a handoff key present = %v (%v)", ok, has, meta)
		}
		if !ok {
			return
		}
		if got.Kind != TriggerAssignTo && got.Kind != TriggerAssignTeam {
			t.Fatalf("kind %q", got.Kind)
		}
		for _, s := range []string{got.Target, got.TeamID, got.Event} {
			if s != strings.TrimSpace(s) {
				t.Fatalf("untrimmed value %q in %+v", s, got)
			}
		}
		if got.Kind == TriggerAssignTeam && (got.TeamID == "" || got.Target != "") {
			t.Fatalf("team trigger without a team: %+v", got)
		}
	})
}

func botConv(status Status) Conversation {
	return Conversation{ID: "c1", AppID: testApp, Status: status, Assignee: assignee(AssigneeBot, "b1")}
}

func TestDecideHandoff(t *testing.T) {
	rules := Rules{Mode: ModeAutomatic, RemoveBotOnHandoff: true}
	keepBot := Rules{Mode: ModeAutomatic}
	inTeam := botConv(StatusOpen)
	inTeam.TeamID = "t1"
	agentConv := Conversation{ID: "c1", AppID: testApp, Assignee: assignee(AssigneeAgent, "a1")}
	base := func(conv Conversation, tr Trigger) HandoffInput {
		return HandoffInput{Conversation: conv, Trigger: tr, Rules: rules, AutoHandoff: true, Agents: testAgents, Bots: testBots, Teams: testTeams}
	}
	with := func(in HandoffInput, f func(*HandoffInput)) HandoffInput { f(&in); return in }

	cases := []struct {
		name      string
		in        HandoffInput
		skipped   bool
		reason    HandoffReason
		fallback  Fallback
		assignee  *Assignee
		route     bool
		teamID    string
		event     string
		removeBot bool
		status    Status
		notice    string
		contact   string
	}{
		{name: "no-op when an agent holds the conversation",
			in:      base(agentConv, Trigger{Kind: TriggerAssignTo, Target: "a2"}),
			skipped: true, reason: HandoffNotBotAssigned},
		{name: "no-op when nobody holds the conversation",
			in:      base(Conversation{AppID: testApp, Status: StatusWaiting}, Trigger{Kind: TriggerContactAsked}),
			skipped: true, reason: HandoffNotBotAssigned, status: StatusWaiting},
		{name: "no-op on a resolved conversation",
			in:      base(botConv(StatusResolved), Trigger{Kind: TriggerBotGaveUp}),
			skipped: true, reason: HandoffClosed, status: StatusResolved},
		{name: `KM_ASSIGN_TO "" applies routing in the conversation's team`,
			in:     base(inTeam, Trigger{Kind: TriggerAssignTo}),
			reason: HandoffAssignTo, route: true, teamID: "t1", removeBot: true},
		{name: "KM_ASSIGN_TO agent id: that agent, skipping the rules",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "a2"}),
			reason: HandoffAssignTo, assignee: assignee(AssigneeAgent, "a2"), removeBot: true, notice: "Assigned to Bob"},
		{name: "KM_ASSIGN_TO email, any case; a nameless agent is not shown by email",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "carol@EXAMPLE.com"}),
			reason: HandoffAssignTo, assignee: assignee(AssigneeAgent, "a3"), removeBot: true, notice: "Assigned to an agent"},
		{name: "KM_ASSIGN_TO agent takes a waiting conversation out of the queue",
			in:     with(base(botConv(StatusWaiting), Trigger{Kind: TriggerAssignTo, Target: "a1"}), func(in *HandoffInput) { in.Rules = keepBot }),
			reason: HandoffAssignTo, assignee: assignee(AssigneeAgent, "a1"), notice: "Assigned to Alice"},
		{name: "KM_ASSIGN_TO agent with KM_ASSIGN_TEAM moves the team too",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "a2", TeamID: "t1"}),
			reason: HandoffAssignTo, assignee: assignee(AssigneeAgent, "a2"), teamID: "t1", removeBot: true, notice: "Assigned to Bob"},
		{name: "KM_ASSIGN_TO unknown id falls back to routing and says so",
			in:     base(inTeam, Trigger{Kind: TriggerAssignTo, Target: "nobody"}),
			reason: HandoffAssignTo, fallback: FallbackUnknownAssignee, route: true, teamID: "t1", removeBot: true},
		{name: "KM_ASSIGN_TO unknown email falls back to routing",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "ghost@example.com"}),
			reason: HandoffAssignTo, fallback: FallbackUnknownAssignee, route: true, removeBot: true},
		{name: "KM_ASSIGN_TO an agent of another app is unknown",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "x1"}),
			reason: HandoffAssignTo, fallback: FallbackUnknownAssignee, route: true, removeBot: true},
		{name: "KM_ASSIGN_TO another app's agent by email is unknown",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "mallory@example.com"}),
			reason: HandoffAssignTo, fallback: FallbackUnknownAssignee, route: true, removeBot: true},
		{name: "KM_ASSIGN_TO bot id: bot-to-bot with the event",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "b2", Event: "order_status"}),
			reason: HandoffAssignTo, assignee: assignee(AssigneeBot, "b2"), event: "order_status", removeBot: true, notice: "Assigned to Helper"},
		{name: "KM_ASSIGN_TO bot id without an event is a cold start",
			in:     with(base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "b2"}), func(in *HandoffInput) { in.Rules = keepBot }),
			reason: HandoffAssignTo, assignee: assignee(AssigneeBot, "b2"), notice: "Assigned to Helper"},
		{name: "KM_ASSIGN_TO the same bot is skipped",
			in:      base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "b1"}),
			skipped: true, reason: HandoffSameBot},
		{name: "KM_ASSIGN_TO a disabled bot falls back to routing",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "b3"}),
			reason: HandoffAssignTo, fallback: FallbackBotDisabled, route: true, removeBot: true},
		{name: "KM_ASSIGN_TO a bot of another app is unknown",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTo, Target: "ob"}),
			reason: HandoffAssignTo, fallback: FallbackUnknownAssignee, route: true, removeBot: true},
		{name: "KM_ASSIGN_TEAM routes within that team",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTeam, TeamID: "t1"}),
			reason: HandoffAssignTeam, route: true, teamID: "t1", removeBot: true},
		{name: "KM_ASSIGN_TEAM of another app falls back to the conversation's team",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerAssignTeam, TeamID: "ot"}),
			reason: HandoffAssignTeam, fallback: FallbackUnknownTeam, route: true, removeBot: true},
		{name: "bot gave up with auto-handoff on: routing",
			in:     base(inTeam, Trigger{Kind: TriggerBotGaveUp}),
			reason: HandoffBotGaveUp, route: true, teamID: "t1", removeBot: true},
		{name: "bot gave up with auto-handoff off: a polite reply, no human asked",
			in:      with(base(botConv(StatusOpen), Trigger{Kind: TriggerBotGaveUp}), func(in *HandoffInput) { in.AutoHandoff = false }),
			skipped: true, reason: HandoffAutoOff, contact: DefaultBotFallbackMessage},
		{name: "bot gave up, auto-handoff off, reply in the contact's language",
			in: with(base(botConv(StatusOpen), Trigger{Kind: TriggerBotGaveUp}), func(in *HandoffInput) {
				in.AutoHandoff = false
				in.Rules.BotFallback = map[string]string{"fr": "Désolé, je ne peux pas aider."}
				in.Language = "fr-CA"
			}),
			skipped: true, reason: HandoffAutoOff, contact: "Désolé, je ne peux pas aider."},
		{name: "bot failed with auto-handoff on: routing",
			in:     base(botConv(StatusOpen), Trigger{Kind: TriggerBotFailed}),
			reason: HandoffBotFailed, route: true, removeBot: true},
		{name: "bot failed with auto-handoff off: never silence",
			in:      with(base(botConv(StatusOpen), Trigger{Kind: TriggerBotFailed}), func(in *HandoffInput) { in.AutoHandoff = false }),
			skipped: true, reason: HandoffAutoOff, contact: DefaultBotFallbackMessage},
		{name: "contact asked for a human, even with auto-handoff off",
			in:     with(base(inTeam, Trigger{Kind: TriggerContactAsked}), func(in *HandoffInput) { in.AutoHandoff = false }),
			reason: HandoffContactAsked, route: true, teamID: "t1", removeBot: true},
		{name: "take over: that agent",
			in:     base(inTeam, Trigger{Kind: TriggerTakeOver, Target: "a1"}),
			reason: HandoffTakeOver, assignee: assignee(AssigneeAgent, "a1"), teamID: "t1", removeBot: true, notice: "Assigned to Alice"},
		{name: "take over by an unknown agent is refused",
			in:      base(botConv(StatusOpen), Trigger{Kind: TriggerTakeOver, Target: "x1"}),
			skipped: true, reason: HandoffUnknownAgent},
		{name: "take over of an agent's conversation is a no-op",
			in:      base(agentConv, Trigger{Kind: TriggerTakeOver, Target: "a2"}),
			skipped: true, reason: HandoffNotBotAssigned},
		{name: "an unknown trigger is skipped",
			in:      base(botConv(StatusOpen), Trigger{Kind: "telepathy"}),
			skipped: true, reason: HandoffUnknownTrigger},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := DecideHandoff(c.in)
			if d.Skipped != c.skipped || d.Reason != c.reason || d.Fallback != c.fallback {
				t.Errorf("skipped/reason/fallback = %v/%q/%q, want %v/%q/%q", d.Skipped, d.Reason, d.Fallback, c.skipped, c.reason, c.fallback)
			}
			if !sameAssigneePtr(d.Assignee, c.assignee) {
				t.Errorf("assignee = %s, want %s", fmtAssignee(d.Assignee), fmtAssignee(c.assignee))
			}
			if d.Route != c.route || d.TeamID != c.teamID {
				t.Errorf("route/team = %v/%q, want %v/%q", d.Route, d.TeamID, c.route, c.teamID)
			}
			if d.BotEvent != c.event || d.RemoveBot != c.removeBot || d.Status != c.status {
				t.Errorf("event/removeBot/status = %q/%v/%v, want %q/%v/%v", d.BotEvent, d.RemoveBot, d.Status, c.event, c.removeBot, c.status)
			}
			notice := ""
			if d.Notice != nil {
				notice = d.Notice.Text
				if d.Notice.Metadata[MetaSkipBot] != "true" || d.Notice.ContentType != ContentSystem || d.Notice.Sender.Type != SenderSystem {
					t.Errorf("notice %+v is not a skipBot system notice", d.Notice)
				}
				if err := d.Notice.Normalize(); err != nil {
					t.Errorf("notice does not validate: %v", err)
				}
			}
			if notice != c.notice {
				t.Errorf("notice = %q, want %q", notice, c.notice)
			}
			if d.ContactMessage != c.contact {
				t.Errorf("contact message = %q, want %q", d.ContactMessage, c.contact)
			}
			if !d.Skipped && d.FromBotID != "b1" {
				t.Errorf("fromBot = %q, want b1", d.FromBotID)
			}
		})
	}
}

// TestHandoffThroughRouting runs the two-step path the service takes:
// DecideHandoff says Route, routing runs HumansOnly, Routed finishes.
func TestHandoffThroughRouting(t *testing.T) {
	teamRules := Rules{Mode: ModeAutomatic, BotRouting: true, HandleAllBotID: "b1", Away: map[string]string{"de": "Niemand da."}}
	conv := botConv(StatusOpen)
	conv.TeamID = "t1"
	cases := []struct {
		name       string
		rules      Rules
		candidates []Candidate
		closed     bool
		assignee   *Assignee
		status     Status
		notice     string
		contact    string
		routeWhy   RouteReason
		notifyAll  bool
	}{
		{name: "an online team member gets it; never the handle-all bot",
			rules: teamRules, candidates: []Candidate{online("a1", 0), online("a3", 0)},
			assignee: assignee(AssigneeAgent, "a3"), status: StatusOpen, notice: "Assigned to an agent", routeWhy: ReasonRoundRobin},
		{name: "nobody online: waits in the queue and the contact is told in German",
			rules: teamRules, candidates: []Candidate{{AgentID: "a2", Presence: PresenceAway, Connected: true}},
			status: StatusWaiting, notice: "Waiting for an agent", contact: "Niemand da.", routeWhy: ReasonQueued},
		{name: "outside business hours: default agent holds it and the contact is told",
			rules: Rules{Mode: ModeAutomatic, DefaultAgentID: "a2"}, candidates: []Candidate{online("a2", 0)}, closed: true,
			assignee: assignee(AssigneeAgent, "a2"), status: StatusOpen, notice: "Assigned to Bob", contact: DefaultAwayMessage, routeWhy: ReasonDefaultAgent},
		{name: "all at their limit and queueing: the contact is still told",
			rules: Rules{Mode: ModeAutomatic, QueueWhenNobody: true, MaxConcurrentChats: 1}, candidates: []Candidate{online("a2", 1)},
			status: StatusWaiting, notice: "Waiting for an agent", contact: DefaultAwayMessage, routeWhy: ReasonQueued},
		{name: "notify everybody without a default agent: open for all, no away message",
			rules: Rules{Mode: ModeNotifyEverybody}, candidates: []Candidate{online("a2", 0)},
			status: StatusOpen, notice: "Waiting for an agent", routeWhy: ReasonNotifyEverybody, notifyAll: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := DecideHandoff(HandoffInput{Conversation: conv, Trigger: Trigger{Kind: TriggerContactAsked}, Rules: c.rules,
				Agents: testAgents, Bots: testBots, Teams: testTeams, Language: "de"})
			if !d.Route {
				t.Fatalf("want a routing step, got %+v", d)
			}
			team := findTeam(testTeams, testApp, d.TeamID)
			r := Route(RouteInput{AppID: testApp, Rules: c.rules, HumansOnly: true, Team: team, Candidates: c.candidates,
				Bots: testBots, OutsideHours: c.closed, Language: "de"})
			d = d.Routed(r, testAgents)
			if d.Route {
				t.Error("Routed left Route set")
			}
			if !sameAssigneePtr(d.Assignee, c.assignee) || d.Status != c.status || d.RouteReason != c.routeWhy || d.NotifyAll != c.notifyAll {
				t.Errorf("got %s/%v/%q/notify=%v, want %s/%v/%q/notify=%v", fmtAssignee(d.Assignee), d.Status, d.RouteReason, d.NotifyAll,
					fmtAssignee(c.assignee), c.status, c.routeWhy, c.notifyAll)
			}
			if d.Notice == nil || d.Notice.Text != c.notice || d.Notice.Metadata[MetaSkipBot] != "true" {
				t.Errorf("notice = %+v, want %q (skipBot)", d.Notice, c.notice)
			}
			if d.ContactMessage != c.contact {
				t.Errorf("contact = %q, want %q", d.ContactMessage, c.contact)
			}
		})
	}
	t.Run("a bot answer from routing is refused: it queues", func(t *testing.T) {
		d := DecideHandoff(HandoffInput{Conversation: conv, Trigger: Trigger{Kind: TriggerBotFailed}, AutoHandoff: true, Rules: teamRules})
		d = d.Routed(RouteDecision{Assignee: assignee(AssigneeBot, "b1"), Status: StatusOpen}, nil)
		if d.Assignee != nil || d.Status != StatusWaiting || d.ContactMessage != DefaultAwayMessage {
			t.Errorf("got %s/%v/%q", fmtAssignee(d.Assignee), d.Status, d.ContactMessage)
		}
	})
	t.Run("Routed leaves a decided handoff alone", func(t *testing.T) {
		d := DecideHandoff(HandoffInput{Conversation: conv, Trigger: Trigger{Kind: TriggerTakeOver, Target: "a1"}, Agents: testAgents})
		got := d.Routed(RouteDecision{Status: StatusWaiting}, testAgents)
		if !sameAssigneePtr(got.Assignee, assignee(AssigneeAgent, "a1")) || got.Status != StatusOpen {
			t.Errorf("got %+v", got)
		}
	})
}

func TestHandBack(t *testing.T) {
	agentConv := Conversation{AppID: testApp, Status: StatusOpen, Assignee: assignee(AssigneeAgent, "a1")}
	waiting := Conversation{AppID: testApp, Status: StatusWaiting}
	cases := []struct {
		name   string
		conv   Conversation
		botID  string
		code   Code
		status Status
	}{
		{"from an agent to an enabled bot", agentConv, "b2", "", StatusOpen},
		{"from the queue (unassigned) to a bot, which leaves the queue", waiting, "b1", "", StatusOpen},
		{"refused: the conversation is already with a bot", botConv(StatusOpen), "b2", CodeConflict, 0},
		{"refused: disabled bot", agentConv, "b3", CodeConflict, 0},
		{"refused: bot of another app", agentConv, "ob", CodeNotFound, 0},
		{"refused: unknown bot", agentConv, "zz", CodeNotFound, 0},
		{"refused: malformed id", agentConv, "no spaces", CodeInvalid, 0},
		{"refused: empty id", agentConv, "", CodeInvalid, 0},
		{"refused: resolved conversation", Conversation{AppID: testApp, Status: StatusResolved, Assignee: assignee(AssigneeAgent, "a1")}, "b1", CodeConflict, 0},
		{"refused: spam conversation", Conversation{AppID: testApp, Status: StatusSpam}, "b1", CodeConflict, 0},
	}
	for _, c := range cases {
		d, err := HandBack(c.conv, c.botID, testBots)
		if c.code != "" {
			if !IsCode(err, c.code) {
				t.Errorf("%s: err = %v, want code %s", c.name, err, c.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d.Assignee != (Assignee{Type: AssigneeBot, ID: c.botID}) || d.Status != c.status ||
			d.Notice == nil || d.Notice.Metadata[MetaSkipBot] != "true" || !strings.HasPrefix(d.Notice.Text, "Assigned to ") {
			t.Errorf("%s: got %+v", c.name, d)
		}
	}
}

func TestBotRecipient(t *testing.T) {
	contact := &Message{Sender: Sender{Type: SenderContact, ID: "k1"}, Text: "hi"}
	agentConv := &Conversation{Status: StatusOpen, Assignee: assignee(AssigneeAgent, "a1")}
	bc := botConv(StatusOpen)
	resolved := botConv(StatusResolved)
	cases := []struct {
		name string
		conv *Conversation
		msg  *Message
		want string
	}{
		{"contact message to the assigned bot", &bc, contact, "b1"},
		{"after handoff no bot receives anything", agentConv, contact, ""},
		{"unassigned", &Conversation{}, contact, ""},
		{"skipBot message", &bc, &Message{Sender: Sender{Type: SenderContact}, Metadata: Metadata{MetaSkipBot: " TRUE "}}, ""},
		{"agent message", &bc, &Message{Sender: Sender{Type: SenderAgent, ID: "a1"}}, ""},
		{"system notice", &bc, &Message{Sender: Sender{Type: SenderSystem}}, ""},
		{"the bot's own reply", &bc, &Message{Sender: Sender{Type: SenderBot, ID: "b1"}}, ""},
		{"closed conversation", &resolved, contact, ""},
		{"nil conversation", nil, contact, ""},
	}
	for _, c := range cases {
		got, ok := BotRecipient(c.conv, c.msg)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: BotRecipient = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
}
