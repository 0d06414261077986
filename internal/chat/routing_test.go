package chat

import (
	"fmt"
	"testing"
)

// Fixtures shared by the routing and handoff tables.
const testApp = "app1"

var (
	testBots = []Bot{
		{ID: "b1", AppID: testApp, Name: "Lexie", Enabled: true},
		{ID: "b2", AppID: testApp, Name: "Helper", Enabled: true},
		{ID: "b3", AppID: testApp, Name: "Retired", Enabled: false},
		{ID: "ob", AppID: "other", Name: "Foreign", Enabled: true},
	}
	testAgents = []Agent{
		{ID: "a1", AppID: testApp, Name: "Alice", Email: "alice@example.com"},
		{ID: "a2", AppID: testApp, Name: "Bob", Email: "bob@example.com"},
		{ID: "a3", AppID: testApp, Email: "Carol@Example.com"},
		{ID: "x1", AppID: "other", Name: "Mallory", Email: "mallory@example.com"},
	}
	testTeams = []Team{
		{ID: "t1", AppID: testApp, Name: "Billing", AgentIDs: []string{"a2", "a3"}},
		{ID: "ot", AppID: "other", Name: "Foreign"},
	}
)

func online(id string, open int) Candidate {
	return Candidate{AgentID: id, Presence: PresenceOnline, Connected: true, OpenChats: open}
}

func assignee(t AssigneeType, id string) *Assignee { return &Assignee{Type: t, ID: id} }

func sameAssigneePtr(a, b *Assignee) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func fmtAssignee(a *Assignee) string {
	if a == nil {
		return "<nobody>"
	}
	return string(a.Type) + ":" + a.ID
}

func TestRoute(t *testing.T) {
	notify := Rules{Mode: ModeNotifyEverybody, DefaultAgentID: "a1"}
	auto := Rules{Mode: ModeAutomatic, DefaultAgentID: "a1"}
	autoQueue := Rules{Mode: ModeAutomatic, DefaultAgentID: "a1", QueueWhenNobody: true}
	autoNoDefault := Rules{Mode: ModeAutomatic}
	botRules := Rules{Mode: ModeAutomatic, DefaultAgentID: "a1", BotRouting: true, HandleAllBotID: "b1"}
	three := []Candidate{online("a1", 0), online("a2", 0), online("a3", 0)}
	team := &testTeams[0]
	away := DefaultAwayMessage

	cases := []struct {
		name string
		in   RouteInput
		// want
		assignee   *Assignee
		status     Status
		notifyAll  bool
		cursor     string
		reason     RouteReason
		away       string
		botSkipped bool
		target     *HumanTarget
		teamID     string
	}{
		// Step 1.
		{name: "skipRouting keeps the caller's agent over bot routing",
			in:       RouteInput{AppID: testApp, Rules: botRules, SkipRouting: true, Assignee: assignee(AssigneeAgent, "a2"), Bots: testBots, Candidates: three, Cursor: "a1"},
			assignee: assignee(AssigneeAgent, "a2"), cursor: "a1", reason: ReasonSkipRouting},
		{name: "skipRouting with no assignee stays unassigned",
			in:     RouteInput{AppID: testApp, Rules: auto, SkipRouting: true, Candidates: three},
			reason: ReasonSkipRouting},
		{name: "skipRouting with a bot keeps the bot",
			in:       RouteInput{AppID: testApp, Rules: auto, SkipRouting: true, Assignee: assignee(AssigneeBot, "b2")},
			assignee: assignee(AssigneeBot, "b2"), reason: ReasonSkipRouting},
		// Step 2.
		{name: "bot routing assigns the handle-all bot and records the human target",
			in:       RouteInput{AppID: testApp, Rules: botRules, Bots: testBots, Candidates: three, Cursor: "a2", Team: team},
			assignee: assignee(AssigneeBot, "b1"), cursor: "a2", reason: ReasonBotRouting, teamID: "t1",
			target: &HumanTarget{TeamID: "t1", DefaultAgentID: "a1", Mode: ModeAutomatic}},
		{name: "bot routing works outside hours and with nobody online, without an away message",
			in:       RouteInput{AppID: testApp, Rules: botRules, Bots: testBots, OutsideHours: true},
			assignee: assignee(AssigneeBot, "b1"), reason: ReasonBotRouting,
			target: &HumanTarget{DefaultAgentID: "a1", Mode: ModeAutomatic}},
		{name: "a disabled handle-all bot falls through to the human rules",
			in:       RouteInput{AppID: testApp, Rules: Rules{Mode: ModeAutomatic, BotRouting: true, HandleAllBotID: "b3"}, Bots: testBots, Candidates: three},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a1", reason: ReasonRoundRobin, botSkipped: true},
		{name: "a handle-all bot of another app is never used",
			in:        RouteInput{AppID: testApp, Rules: Rules{Mode: ModeNotifyEverybody, BotRouting: true, HandleAllBotID: "ob"}, Bots: testBots, Candidates: three},
			notifyAll: true, reason: ReasonNotifyEverybody, botSkipped: true},
		{name: "a deleted handle-all bot falls through",
			in:       RouteInput{AppID: testApp, Rules: Rules{Mode: ModeNotifyEverybody, DefaultAgentID: "a2", BotRouting: true, HandleAllBotID: "gone"}, Bots: testBots, Candidates: three},
			assignee: assignee(AssigneeAgent, "a2"), notifyAll: true, reason: ReasonNotifyEverybody, botSkipped: true},
		{name: "HumansOnly (a handoff) ignores bot routing",
			in:       RouteInput{AppID: testApp, Rules: botRules, HumansOnly: true, Bots: testBots, Candidates: three},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a1", reason: ReasonRoundRobin},
		{name: "bot routing off ignores the handle-all bot",
			in:       RouteInput{AppID: testApp, Rules: Rules{Mode: ModeAutomatic, HandleAllBotID: "b1"}, Bots: testBots, Candidates: three},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a1", reason: ReasonRoundRobin},
		// Step 3.
		{name: "notify everybody: default agent, everyone notified",
			in:       RouteInput{AppID: testApp, Rules: notify, Candidates: three, Cursor: "a2"},
			assignee: assignee(AssigneeAgent, "a1"), notifyAll: true, cursor: "a2", reason: ReasonNotifyEverybody},
		{name: "notify everybody without a default agent leaves it unassigned and open",
			in:        RouteInput{AppID: testApp, Rules: Rules{Mode: ModeNotifyEverybody}, Candidates: three},
			notifyAll: true, reason: ReasonNotifyEverybody},
		{name: "notify everybody with nobody online still assigns the default agent and tells the contact",
			in:       RouteInput{AppID: testApp, Rules: notify, Candidates: []Candidate{{AgentID: "a2", Presence: PresenceAway, Connected: true}}},
			assignee: assignee(AssigneeAgent, "a1"), notifyAll: true, reason: ReasonNotifyEverybody, away: away},
		{name: "notify everybody outside hours with queueing waits",
			in:     RouteInput{AppID: testApp, Rules: Rules{Mode: ModeNotifyEverybody, DefaultAgentID: "a1", QueueWhenNobody: true}, Candidates: three, OutsideHours: true},
			status: StatusWaiting, notifyAll: true, reason: ReasonQueued, away: away},
		{name: "an unset mode behaves as notify everybody",
			in:       RouteInput{AppID: testApp, Rules: Rules{DefaultAgentID: "a1"}, Candidates: three},
			assignee: assignee(AssigneeAgent, "a1"), notifyAll: true, reason: ReasonNotifyEverybody},
		// Step 4.
		{name: "round robin starts at the first agent by id",
			in:       RouteInput{AppID: testApp, Rules: auto, Candidates: []Candidate{online("a3", 0), online("a2", 0), online("a1", 0)}},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a1", reason: ReasonRoundRobin},
		{name: "round robin continues after the cursor",
			in:       RouteInput{AppID: testApp, Rules: auto, Candidates: three, Cursor: "a1"},
			assignee: assignee(AssigneeAgent, "a2"), cursor: "a2", reason: ReasonRoundRobin},
		{name: "round robin wraps round",
			in:       RouteInput{AppID: testApp, Rules: auto, Candidates: three, Cursor: "a3"},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a1", reason: ReasonRoundRobin},
		{name: "round robin continues after a cursor agent who has left",
			in:       RouteInput{AppID: testApp, Rules: auto, Candidates: []Candidate{online("a1", 0), online("a3", 0)}, Cursor: "a2"},
			assignee: assignee(AssigneeAgent, "a3"), cursor: "a3", reason: ReasonRoundRobin},
		{name: "round robin skips away, offline and disconnected agents",
			in: RouteInput{AppID: testApp, Rules: auto, Cursor: "a0", Candidates: []Candidate{
				{AgentID: "a1", Presence: PresenceAway, Connected: true},
				{AgentID: "a2", Presence: PresenceOffline, Connected: true},
				{AgentID: "a3", Presence: PresenceOnline, Connected: false},
				online("a4", 0)}},
			assignee: assignee(AssigneeAgent, "a4"), cursor: "a4", reason: ReasonRoundRobin},
		{name: "round robin skips an agent at their own limit",
			in: RouteInput{AppID: testApp, Rules: auto, Candidates: []Candidate{
				{AgentID: "a1", Presence: PresenceOnline, Connected: true, OpenChats: 2, MaxChats: 2}, online("a2", 5)}},
			assignee: assignee(AssigneeAgent, "a2"), cursor: "a2", reason: ReasonRoundRobin},
		{name: "round robin skips an agent at the rules' default limit; an agent's own higher limit wins",
			in: RouteInput{AppID: testApp, Rules: Rules{Mode: ModeAutomatic, MaxConcurrentChats: 3}, Candidates: []Candidate{
				online("a1", 3), {AgentID: "a2", Presence: PresenceOnline, Connected: true, OpenChats: 3, MaxChats: 4}}},
			assignee: assignee(AssigneeAgent, "a2"), cursor: "a2", reason: ReasonRoundRobin},
		{name: "everyone at the limit: default agent, no away message (people are online)",
			in: RouteInput{AppID: testApp, Rules: Rules{Mode: ModeAutomatic, DefaultAgentID: "a1", MaxConcurrentChats: 1}, Cursor: "a2",
				Candidates: []Candidate{online("a1", 1), online("a2", 1)}},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a2", reason: ReasonDefaultAgent},
		{name: "everyone at the limit with queueing: waiting",
			in: RouteInput{AppID: testApp, Rules: Rules{Mode: ModeAutomatic, DefaultAgentID: "a1", MaxConcurrentChats: 1, QueueWhenNobody: true},
				Candidates: []Candidate{online("a1", 1)}},
			status: StatusWaiting, reason: ReasonQueued},
		{name: "no candidates: default agent and the away message",
			in:       RouteInput{AppID: testApp, Rules: auto},
			assignee: assignee(AssigneeAgent, "a1"), reason: ReasonDefaultAgent, away: away},
		{name: "no candidates with queueing: waiting and the away message",
			in:     RouteInput{AppID: testApp, Rules: autoQueue, Cursor: "a1"},
			status: StatusWaiting, cursor: "a1", reason: ReasonQueued, away: away},
		{name: "no candidates and no default agent queues rather than strand the chat",
			in:     RouteInput{AppID: testApp, Rules: autoNoDefault},
			status: StatusWaiting, reason: ReasonQueued, away: away},
		{name: "outside hours nobody qualifies even if online; the cursor does not move",
			in:       RouteInput{AppID: testApp, Rules: auto, Candidates: three, OutsideHours: true, Cursor: "a2"},
			assignee: assignee(AssigneeAgent, "a1"), cursor: "a2", reason: ReasonDefaultAgent, away: away},
		{name: "a team limits round robin to its members",
			in:       RouteInput{AppID: testApp, Rules: auto, Candidates: three, Team: team, Cursor: "a0"},
			assignee: assignee(AssigneeAgent, "a2"), cursor: "a2", reason: ReasonRoundRobin, teamID: "t1"},
		{name: "a team whose members are all offline falls back even if others are online",
			in:     RouteInput{AppID: testApp, Rules: autoQueue, Candidates: []Candidate{online("a1", 0), {AgentID: "a2", Presence: PresenceOffline}}, Team: team},
			status: StatusWaiting, reason: ReasonQueued, away: away, teamID: "t1"},
		{name: "the away message follows the contact's language",
			in:     RouteInput{AppID: testApp, Rules: Rules{Mode: ModeAutomatic, QueueWhenNobody: true, Away: map[string]string{"de": "Gerade ist niemand da."}}, Language: "de-AT"},
			status: StatusWaiting, reason: ReasonQueued, away: "Gerade ist niemand da."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Route(c.in)
			if !sameAssigneePtr(d.Assignee, c.assignee) {
				t.Errorf("assignee = %s, want %s", fmtAssignee(d.Assignee), fmtAssignee(c.assignee))
			}
			if d.Status != c.status {
				t.Errorf("status = %v, want %v", d.Status, c.status)
			}
			if d.NotifyAll != c.notifyAll {
				t.Errorf("notifyAll = %v, want %v", d.NotifyAll, c.notifyAll)
			}
			if d.Cursor != c.cursor {
				t.Errorf("cursor = %q, want %q", d.Cursor, c.cursor)
			}
			if d.Reason != c.reason {
				t.Errorf("reason = %q, want %q", d.Reason, c.reason)
			}
			if d.AwayMessage != c.away {
				t.Errorf("away = %q, want %q", d.AwayMessage, c.away)
			}
			if d.BotSkipped != c.botSkipped {
				t.Errorf("botSkipped = %v, want %v", d.BotSkipped, c.botSkipped)
			}
			if (d.HumanTarget == nil) != (c.target == nil) || (d.HumanTarget != nil && *d.HumanTarget != *c.target) {
				t.Errorf("human target = %+v, want %+v", d.HumanTarget, c.target)
			}
			if d.TeamID != c.teamID {
				t.Errorf("teamID = %q, want %q", d.TeamID, c.teamID)
			}
		})
	}
}

func TestRouteDoesNotAliasTheCallersAssignee(t *testing.T) {
	a := &Assignee{Type: AssigneeAgent, ID: "a1"}
	d := Route(RouteInput{SkipRouting: true, Assignee: a})
	d.Assignee.ID = "changed"
	if a.ID != "a1" {
		t.Fatal("Route returned the caller's assignee pointer")
	}
}

// TestRoundRobinFairness runs 100 placements while agents flip presence,
// feeding each decision's cursor into the next, as the store would under
// its lock. Agents that qualify throughout must be served strictly in turn
// (no one gets a second chat before the others got one), so their counts
// differ by at most one; flipping agents are never chosen while they do
// not qualify, and still get served when they do.
func TestRoundRobinFairness(t *testing.T) {
	rules := Rules{Mode: ModeAutomatic, DefaultAgentID: "a1"}
	stable := []string{"a1", "a3", "a5"}
	counts := map[string]int{}
	var stableSeq []string
	cursor := ""
	for step := 0; step < 100; step++ {
		cands := []Candidate{
			online("a5", 0), online("a3", 0), online("a1", 0), // shuffled on purpose
			{AgentID: "a2", Presence: []Presence{PresenceOnline, PresenceAway, PresenceOffline}[step%3], Connected: true},
			{AgentID: "a4", Presence: PresenceOnline, Connected: step%4 < 2},
			{AgentID: "a6", Presence: PresenceOnline, Connected: true, OpenChats: (step / 7) % 2, MaxChats: 1},
		}
		d := Route(RouteInput{AppID: testApp, Rules: rules, Candidates: cands, Cursor: cursor})
		if d.Reason != ReasonRoundRobin || d.Assignee == nil {
			t.Fatalf("step %d: %+v, want a round-robin pick", step, d)
		}
		id := d.Assignee.ID
		for _, c := range cands {
			if c.AgentID == id && (!c.Available() || c.AtLimit(rules.MaxConcurrentChats)) {
				t.Fatalf("step %d: picked %s, who does not qualify (%+v)", step, id, c)
			}
		}
		if d.Cursor != id {
			t.Fatalf("step %d: cursor %q, want %q", step, d.Cursor, id)
		}
		cursor = d.Cursor
		counts[id]++
		for _, s := range stable {
			if s == id {
				stableSeq = append(stableSeq, id)
			}
		}
	}
	for i := range stableSeq {
		if want := stable[i%len(stable)]; stableSeq[i] != want {
			t.Fatalf("stable agents out of turn at %d: got %v", i, stableSeq)
		}
	}
	lo, hi := 1<<30, 0
	for _, s := range stable {
		lo, hi = min(lo, counts[s]), max(hi, counts[s])
	}
	if hi-lo > 1 {
		t.Errorf("stable agents' counts differ by %d: %v", hi-lo, counts)
	}
	for _, f := range []string{"a2", "a4", "a6"} {
		if counts[f] == 0 {
			t.Errorf("flipping agent %s was never served: %v", f, counts)
		}
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 100 {
		t.Errorf("placed %d, want 100", total)
	}
}

// TestRoundRobinEvenSplit: with everyone always available, 100 chats over 4
// agents are exactly 25 each.
func TestRoundRobinEvenSplit(t *testing.T) {
	cands := []Candidate{online("d", 0), online("b", 0), online("a", 0), online("c", 0)}
	counts := map[string]int{}
	cursor := ""
	for i := 0; i < 100; i++ {
		d := Route(RouteInput{Rules: Rules{Mode: ModeAutomatic}, Candidates: cands, Cursor: cursor})
		cursor = d.Cursor
		counts[d.Assignee.ID]++
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		if counts[id] != 25 {
			t.Errorf("counts = %v, want 25 each", counts)
			break
		}
	}
}

// TestRoundRobinFillsToTheLimit: open chats grow as agents are assigned;
// once all are at the limit, the next conversation queues.
func TestRoundRobinFillsToTheLimit(t *testing.T) {
	rules := Rules{Mode: ModeAutomatic, MaxConcurrentChats: 2, QueueWhenNobody: true}
	open := map[string]int{"a1": 0, "a2": 1, "a3": 0}
	cursor := ""
	var got []string
	for i := 0; i < 6; i++ {
		var cands []Candidate
		for _, id := range []string{"a1", "a2", "a3"} {
			cands = append(cands, online(id, open[id]))
		}
		d := Route(RouteInput{Rules: rules, Candidates: cands, Cursor: cursor})
		cursor = d.Cursor
		if d.Assignee == nil {
			got = append(got, fmt.Sprintf("%s/%s", d.Reason, d.Status))
			continue
		}
		open[d.Assignee.ID]++
		got = append(got, d.Assignee.ID)
	}
	want := []string{"a1", "a2", "a3", "a1", "a3", "queued/waiting"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sequence = %v, want %v", got, want)
	}
}
