package chat

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAgentsAvailable(t *testing.T) {
	online := Candidate{AgentID: "a", Presence: PresenceOnline, Connected: true}
	full := Candidate{AgentID: "b", Presence: PresenceOnline, Connected: true, OpenChats: 2}
	team := &Team{ID: "t", AgentIDs: []string{"b"}}
	for _, tc := range []struct {
		name string
		in   RouteInput
		want bool
	}{
		{"an agent online and connected", RouteInput{Candidates: []Candidate{online}}, true},
		{"nobody", RouteInput{}, false},
		{"online but not connected", RouteInput{Candidates: []Candidate{{AgentID: "a", Presence: PresenceOnline}}}, false},
		{"connected but away", RouteInput{Candidates: []Candidate{{AgentID: "a", Presence: PresenceAway, Connected: true}}}, false},
		{"outside business hours", RouteInput{Candidates: []Candidate{online}, OutsideHours: true}, false},
		{"the only one at the limit", RouteInput{Rules: Rules{MaxConcurrentChats: 2}, Candidates: []Candidate{full}}, false},
		{"below their own higher limit", RouteInput{Rules: Rules{MaxConcurrentChats: 2}, Candidates: []Candidate{{AgentID: "b", Presence: PresenceOnline, Connected: true, OpenChats: 2, MaxChats: 3}}}, true},
		{"online, but not in the team", RouteInput{Team: team, Candidates: []Candidate{online}}, false},
		{"in the team", RouteInput{Team: team, Candidates: []Candidate{online, {AgentID: "b", Presence: PresenceOnline, Connected: true}}}, true},
	} {
		if got := AgentsAvailable(tc.in); got != tc.want {
			t.Errorf("%s: AgentsAvailable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCSATValidate(t *testing.T) {
	for _, tc := range []struct {
		in    CSAT
		field string
	}{
		{CSAT{Rating: 1}, ""},
		{CSAT{Rating: 10, Comment: "  great  "}, ""},
		{CSAT{Rating: 0}, "rating"},
		{CSAT{Rating: 11}, "rating"},
		{CSAT{Rating: -3}, "rating"},
		{CSAT{Rating: 5, Comment: strings.Repeat("é", MaxCSATCommentLen)}, ""},
		{CSAT{Rating: 5, Comment: strings.Repeat("é", MaxCSATCommentLen+1)}, "comment"},
		{CSAT{Rating: 5, Comment: "bad \xff utf-8"}, "comment"},
	} {
		c := tc.in
		err := c.Validate()
		var e *Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.in, err)
		case tc.field != "" && (!errors.As(err, &e) || e.Details["field"] != tc.field):
			t.Errorf("%+v: error %v, want one on %s", tc.in, err, tc.field)
		}
		if tc.field == "" && c.Comment != strings.TrimSpace(tc.in.Comment) {
			t.Errorf("comment not trimmed: %q", c.Comment)
		}
	}
}

// Analytics keys are per conversation or per action, so that a repeat of
// the same step records nothing new and distinct steps never collide.
func TestAnalyticsKeys(t *testing.T) {
	keys := []string{BotResolvedKey("c1"), BotResolvedKey("c2"), CSATKey("c1"), FirstResponseKey(FirstResponseAny, "c1"),
		FirstResponseKey(FirstResponseHuman, "c1"), HandoffKey("bt:t1"), HandoffKey("bt:t2")}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("key %q twice", k)
		}
		seen[k] = true
		if len(k) > 200 {
			t.Errorf("key %q too long", k)
		}
	}
	if !(Rules{AutoResolveAfter: time.Minute}).AutoResolveDue(StatusWaiting, time.Unix(0, 0), time.Unix(60, 0)) {
		t.Error("a waiting conversation idle for the whole delay is not due")
	}
}

func TestSystemNoticesSkipBots(t *testing.T) {
	for _, m := range []*NewMessage{AutoResolvedNotice(), ResolvedByBotNotice("Helper"), ResolvedByBotNotice(" "), CSATRequest()} {
		if m.Metadata[MetaSkipBot] != "true" || m.Sender.Type != SenderSystem || m.Text == "" {
			t.Errorf("notice %+v", m)
		}
	}
	if CSATRequest().Metadata[MetaCSAT] != "10" {
		t.Error("the rating request carries no CSAT marker")
	}
	if got := ResolvedByBotNotice("").Text; got != "Resolved by the bot" {
		t.Errorf("unnamed bot: %q", got)
	}
}
